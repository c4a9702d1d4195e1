//! Geography of the sample world: eight Anhui counties with their GB/T 2260
//! codes, real township names, generated (but plausible and stable) village
//! and community names, the region codes of other provinces used for
//! non-hukou residents, and canonical addresses.

use rand::RngExt;
use rand::rngs::StdRng;

use super::util::{cn_number, pick, rng_for};

/// One county (县/县级市) of the sample world.
#[derive(Debug)]
pub(crate) struct County {
    /// GB/T 2260 code.
    pub code: u32,
    /// County name, e.g. `定远县`.
    pub name: &'static str,
    /// Prefecture-level city, e.g. `滁州市`.
    pub city: &'static str,
    /// Landline area code of the city.
    pub area_code: &'static str,
    /// Relative population weight.
    pub weight: u32,
    /// Township-level units (镇, 乡, 街道).
    pub townships: &'static [&'static str],
}

/// Counties in the order they are used: a small sample takes the first few,
/// which span four prefectures.
pub(crate) const COUNTIES: &[County] = &[
    County {
        code: 341125,
        name: "定远县",
        city: "滁州市",
        area_code: "0550",
        weight: 90,
        townships: &[
            "定城镇",
            "炉桥镇",
            "藕塘镇",
            "池河镇",
            "吴圩镇",
            "张桥镇",
            "永康镇",
            "蒋集镇",
            "西卅店镇",
            "界牌集镇",
            "严桥乡",
            "拂晓乡",
        ],
    },
    County {
        code: 341522,
        name: "霍邱县",
        city: "六安市",
        area_code: "0564",
        weight: 170,
        townships: &[
            "城关镇",
            "河口镇",
            "周集镇",
            "临水镇",
            "新店镇",
            "石店镇",
            "马店镇",
            "孟集镇",
            "花园镇",
            "长集镇",
            "乌龙镇",
            "高塘镇",
            "龙潭镇",
            "冯井镇",
            "三流乡",
            "宋店乡",
            "王截流乡",
        ],
    },
    County {
        code: 340121,
        name: "长丰县",
        city: "合肥市",
        area_code: "0551",
        weight: 80,
        townships: &[
            "水湖镇",
            "庄墓镇",
            "杨庙镇",
            "吴山镇",
            "岗集镇",
            "双墩镇",
            "下塘镇",
            "朱巷镇",
            "杨公镇",
            "罗塘乡",
            "造甲乡",
            "义井乡",
        ],
    },
    County {
        code: 341623,
        name: "利辛县",
        city: "亳州市",
        area_code: "0558",
        weight: 160,
        townships: &[
            "城关镇",
            "阚疃镇",
            "张村镇",
            "江集镇",
            "永兴镇",
            "王人镇",
            "巩店镇",
            "中疃镇",
            "汝集镇",
            "胡集镇",
            "展沟镇",
            "马店孜镇",
            "望疃镇",
            "孙庙乡",
            "纪王场乡",
        ],
    },
    County {
        code: 341126,
        name: "凤阳县",
        city: "滁州市",
        area_code: "0550",
        weight: 76,
        townships: &[
            "府城镇",
            "临淮关镇",
            "武店镇",
            "刘府镇",
            "大庙镇",
            "殷涧镇",
            "总铺镇",
            "红心镇",
            "板桥镇",
            "小溪河镇",
            "官塘镇",
            "黄湾乡",
        ],
    },
    County {
        code: 341181,
        name: "天长市",
        city: "滁州市",
        area_code: "0550",
        weight: 63,
        townships: &[
            "天长街道",
            "千秋街道",
            "广陵街道",
            "铜城镇",
            "秦栏镇",
            "大通镇",
            "杨村镇",
            "石梁镇",
            "汊涧镇",
            "仁和集镇",
            "冶山镇",
            "郑集镇",
            "张铺镇",
            "新街镇",
        ],
    },
    County {
        code: 341182,
        name: "明光市",
        city: "滁州市",
        area_code: "0550",
        weight: 64,
        townships: &[
            "明光街道",
            "明东街道",
            "明南街道",
            "明西街道",
            "女山湖镇",
            "古沛镇",
            "管店镇",
            "自来桥镇",
            "涧溪镇",
            "桥头镇",
            "张八岭镇",
            "三界镇",
            "潘村镇",
            "柳巷镇",
        ],
    },
    County {
        code: 341122,
        name: "来安县",
        city: "滁州市",
        area_code: "0550",
        weight: 50,
        townships: &[
            "新安镇",
            "半塔镇",
            "水口镇",
            "汊河镇",
            "大英镇",
            "雷官镇",
            "施官镇",
            "舜山镇",
            "三城镇",
            "独山乡",
            "张山乡",
            "杨郢乡",
        ],
    },
];

/// County-level region codes of other provinces (non-hukou residents: migrant
/// workers and spouses married in from neighbouring provinces).
pub(crate) const OTHER_PROVINCE_CODES: &[u32] = &[
    320321, 320324, 321023, 320722, 321081, 411521, 411526, 412726, 412728, 411329, 371321, 372925,
    330424, 360731, 421122, 421127, 511324, 522422, 130521, 320923,
];

const VILLAGE_STEMS: &[&str] = &[
    "金岗", "大李", "王庄", "张桥", "刘圩", "陈集", "新华", "红星", "光明", "杨湾", "周郢", "赵岗",
    "吴圩", "孙店", "朱庄", "徐湖", "马庙", "黄塘", "林场", "桥头", "东风", "长岗", "枣林", "石塘",
    "凤山", "双墩", "高塘", "柳树", "梅花", "前进", "胜利", "团结", "和平", "幸福", "民主", "新建",
    "永安", "太平", "长山", "大桥", "小河", "河口", "沿河", "西湖", "南岗", "北山", "东郢", "西郢",
    "花园", "桃园", "杏花", "竹园", "松林", "青山", "白沙", "黄泥", "红旗", "丰收", "先锋", "复兴",
    "兴隆", "安乐", "龙潭", "凤凰", "虎山", "龙岗", "蔡庄", "唐集", "许郢", "韩店", "冯岗", "邓圩",
    "曹庙", "彭集", "曾湾", "田桥", "董岗", "袁庄", "潘集", "蒋郢", "余圩", "杜集", "叶桥", "程岗",
    "苏庄", "魏店", "吕湖", "丁集", "任圩", "姚庄", "卢岗", "崔集", "陆桥", "汪庄", "范湖", "金桥",
    "石桥", "夏店", "方圩", "白庙", "孟岗", "秦集", "江圩", "薛店", "段庄", "雷岗", "侯集", "史圩",
    "陶庄", "贺岗", "顾集", "毛郢", "邵庄", "钱桥", "严店", "戴集", "孔庄", "汤圩", "大刘", "小张",
    "老庄", "新庄", "后湖", "前湖", "三河", "四合", "五里", "七里", "八里", "九龙", "十里", "万福",
];

const COMMUNITY_STEMS: &[&str] = &[
    "东城", "西城", "南门", "北关", "建设", "人民", "花园", "幸福", "和平", "府前", "文昌", "鼓楼",
    "东方", "城南", "城北", "滨河", "站前", "学府", "翠微", "新华",
];

const STREETS: &[&str] = &[
    "建设路",
    "人民路",
    "解放路",
    "中山路",
    "文化路",
    "长江路",
    "淮河路",
    "东风路",
    "府前街",
    "新华街",
    "胜利路",
    "迎宾大道",
];

/// A village or community of a township.
#[derive(Debug, Clone)]
pub(crate) struct Village {
    /// Full name, e.g. `金岗村` or `东城社区`.
    pub name: String,
    /// `true` for a 社区 (urban community), `false` for a 村.
    pub urban: bool,
}

/// The villages of township `t` of county `c`: fixed for all seeds.
pub(crate) fn villages(c: &County, t: usize) -> Vec<Village> {
    let mut rng = rng_for(0x6E0_2014, u64::from(c.code), t as u64, 0);
    let township = c.townships.get(t).copied().unwrap_or("城关镇");
    let n = rng.random_range(8..14usize);
    let mut out: Vec<Village> = Vec::with_capacity(n);
    let stem = township
        .trim_end_matches(['镇', '乡'])
        .trim_end_matches("街道");
    if township.ends_with("街道") {
        for _ in 0..n.min(8) {
            let name = format!("{}社区", pick(&mut rng, COMMUNITY_STEMS));
            if !out.iter().any(|v| v.name == name) {
                out.push(Village { name, urban: true });
            }
        }
        return out;
    }
    if township.ends_with('镇') {
        out.push(Village {
            name: format!("{stem}社区"),
            urban: true,
        });
    }
    while out.len() < n {
        let name = format!("{}村", pick(&mut rng, VILLAGE_STEMS));
        if !out.iter().any(|v| v.name == name) {
            out.push(Village { name, urban: false });
        }
    }
    out
}

/// Where a household lives, down to the 村民组 or street number.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// Township index into the county's `townships`.
    pub township: usize,
    /// Village name.
    pub village: String,
    /// Urban community (street address) rather than a rural village group.
    pub urban: bool,
    /// 村民组 number (rural) or building number (urban).
    pub group: u32,
    /// House number.
    pub number: u32,
    /// Street (urban only).
    pub street: &'static str,
}

impl Place {
    /// A random place in county `c`, drawing villages from `table`.
    pub(crate) fn random(rng: &mut StdRng, c: &County, table: &[Vec<Village>]) -> Place {
        let township = rng.random_range(0..c.townships.len());
        let vs = &table[township];
        let v = &vs[rng.random_range(0..vs.len())];
        Place {
            township,
            village: v.name.clone(),
            urban: v.urban,
            group: rng.random_range(1..13),
            number: rng.random_range(1..120),
            street: pick(rng, STREETS),
        }
    }

    /// The part below the village: `三组` or `建设路18号`.
    pub(crate) fn local(&self) -> String {
        if self.urban {
            format!("{}{}号", self.street, self.number)
        } else {
            format!("{}组", cn_number(self.group))
        }
    }

    /// Canonical full address: `安徽省滁州市定远县炉桥镇金岗村三组`.
    pub(crate) fn full(&self, c: &County) -> String {
        format!(
            "安徽省{}{}{}{}{}",
            c.city,
            c.name,
            c.townships.get(self.township).copied().unwrap_or(""),
            self.village,
            self.local()
        )
    }
}
