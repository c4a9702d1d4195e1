//! Table-driven parsing cases, checked by `table_driven_cases`.

/// Expected outcome of one case: `(field, value)` pairs; `region_code`
/// and `ambiguous` are always checked (absent = `None` / `false`).
pub(super) struct Case {
    pub(super) raw: &'static str,
    pub(super) hints: &'static [(&'static str, &'static str)],
    pub(super) expect: &'static [(&'static str, &'static str)],
}

const fn case(
    raw: &'static str,
    hints: &'static [(&'static str, &'static str)],
    expect: &'static [(&'static str, &'static str)],
) -> Case {
    Case { raw, hints, expect }
}

pub(super) const CASES: &[Case] = &[
    // --- Anhui, full and partial ---------------------------------------
    case(
        "安徽省滁州市定远县炉桥镇金岗村三组",
        &[],
        &[
            ("province", "安徽省"),
            ("city", "滁州市"),
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村"),
            ("detail", "三组"),
            ("code", "341125"),
        ],
    ),
    case(
        "定远县炉桥镇金岗村三组",
        &[],
        &[
            ("province", "安徽省"),
            ("city", "滁州市"),
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村"),
            ("detail", "三组"),
            ("code", "341125"),
        ],
    ),
    case(
        "  安徽　滁州 定远 炉桥镇 金岗村委会 ３组 ",
        &[],
        &[
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村"),
            ("detail", "3组"),
            ("code", "341125"),
        ],
    ),
    case(
        "定远炉桥镇金岗村",
        &[],
        &[
            ("county", "定远县"),
            ("village", "金岗村"),
            ("code", "341125"),
        ],
    ),
    case(
        "安徽省定远县炉桥镇",
        &[],
        &[
            ("city", "滁州市"),
            ("township", "炉桥镇"),
            ("code", "341125"),
        ],
    ),
    case(
        "安徽省滁州市天长市秦栏镇",
        &[],
        &[
            ("city", "滁州市"),
            ("county", "天长市"),
            ("township", "秦栏镇"),
            ("code", "341181"),
        ],
    ),
    case(
        "滁州市明光市明光街道",
        &[],
        &[
            ("county", "明光市"),
            ("township", "明光街道"),
            ("code", "341182"),
        ],
    ),
    case(
        "安徽省滁州市",
        &[],
        &[("province", "安徽省"), ("city", "滁州市"), ("county", "")],
    ),
    case(
        "安徽省巢湖市烔炀镇",
        &[],
        &[("city", "合肥市"), ("county", "巢湖市"), ("code", "340181")],
    ),
    case(
        "安徽省六安市金寨县城关镇梅山路12号",
        &[],
        &[
            ("county", "金寨县"),
            ("township", "城关镇"),
            ("detail", "梅山路12号"),
            ("code", "341524"),
        ],
    ),
    // --- municipalities ------------------------------------------------
    case(
        "北京市朝阳区建国路88号",
        &[],
        &[
            ("province", "北京市"),
            ("city", ""),
            ("county", "朝阳区"),
            ("detail", "建国路88号"),
            ("code", "110105"),
        ],
    ),
    case(
        "北京海淀区中关村街道",
        &[],
        &[
            ("province", "北京市"),
            ("county", "海淀区"),
            ("township", "中关村街道"),
            ("code", "110108"),
        ],
    ),
    case("北京朝阳", &[], &[("county", "朝阳区"), ("code", "110105")]),
    case(
        "上海市浦东新区陆家嘴街道",
        &[],
        &[
            ("county", "浦东新区"),
            ("township", "陆家嘴街道"),
            ("code", "310115"),
        ],
    ),
    case(
        "重庆市万州区",
        &[],
        &[
            ("province", "重庆市"),
            ("city", ""),
            ("county", "万州区"),
            ("code", "500101"),
        ],
    ),
    case(
        "天津滨海新区",
        &[],
        &[("county", "滨海新区"), ("code", "120116")],
    ),
    case(
        "重庆市石柱县南宾街道",
        &[],
        &[("county", "石柱土家族自治县"), ("code", "500240")],
    ),
    // --- ambiguous district names --------------------------------------
    case(
        "朝阳区建国路88号",
        &[],
        &[
            ("county", "朝阳区"),
            ("province", ""),
            ("detail", "建国路88号"),
            ("ambiguous", "true"),
        ],
    ),
    case(
        "吉林省长春市朝阳区",
        &[],
        &[("city", "长春市"), ("county", "朝阳区"), ("code", "220104")],
    ),
    case(
        "鼓楼区中山路1号",
        &[],
        &[("county", "鼓楼区"), ("ambiguous", "true")],
    ),
    case(
        "江苏省南京市鼓楼区",
        &[],
        &[("city", "南京市"), ("code", "320106")],
    ),
    case(
        "福州市鼓楼区",
        &[],
        &[("province", "福建省"), ("code", "350102")],
    ),
    case("江苏徐州鼓楼区", &[], &[("code", "320302")]),
    case("河南省开封市鼓楼区", &[], &[("code", "410204")]),
    case(
        "鼓楼区",
        &[("region_code", "320106")],
        &[("county", "鼓楼区"), ("city", "南京市"), ("code", "320106")],
    ),
    case(
        "鼓楼区",
        &[("region_code", "350100")],
        &[("code", "350102")],
    ),
    case(
        "鼓楼区",
        &[("province", "江苏")],
        &[("ambiguous", "true"), ("province", "江苏省")],
    ),
    case("鼓楼区", &[("city", "徐州市")], &[("code", "320302")]),
    case(
        "鼓楼区",
        &[("region_code", "530102199001011234")],
        &[("ambiguous", "true")],
    ),
    case(
        "城关区",
        &[],
        &[("ambiguous", "true"), ("county", "城关区")],
    ),
    case("甘肃省兰州市城关区", &[], &[("code", "620102")]),
    case(
        "西藏拉萨城关区",
        &[],
        &[("province", "西藏自治区"), ("code", "540102")],
    ),
    // --- autonomous regions ---------------------------------------------
    case(
        "新疆维吾尔自治区伊犁哈萨克自治州伊宁市",
        &[],
        &[
            ("province", "新疆维吾尔自治区"),
            ("city", "伊犁哈萨克自治州"),
            ("county", "伊宁市"),
            ("code", "654002"),
        ],
    ),
    case(
        "新疆乌鲁木齐市天山区",
        &[],
        &[
            ("province", "新疆维吾尔自治区"),
            ("city", "乌鲁木齐市"),
            ("code", "650102"),
        ],
    ),
    case(
        "新疆石河子市",
        &[],
        &[("city", ""), ("county", "石河子市"), ("code", "659001")],
    ),
    case(
        "广西壮族自治区桂林市七星区漓东街道办事处",
        &[],
        &[("township", "漓东街道"), ("code", "450305")],
    ),
    case(
        "广西桂林七星区",
        &[],
        &[
            ("province", "广西壮族自治区"),
            ("city", "桂林市"),
            ("code", "450305"),
        ],
    ),
    case(
        "广西南宁市",
        &[],
        &[
            ("province", "广西壮族自治区"),
            ("city", "南宁市"),
            ("county", ""),
        ],
    ),
    case(
        "内蒙古自治区锡林郭勒盟太仆寺旗贡宝拉格苏木敦达乌苏嘎查",
        &[],
        &[
            ("city", "锡林郭勒盟"),
            ("county", "太仆寺旗"),
            ("township", "贡宝拉格苏木"),
            ("village", "敦达乌苏嘎查"),
            ("code", "152527"),
        ],
    ),
    case(
        "内蒙古呼和浩特市回民区",
        &[],
        &[("province", "内蒙古自治区"), ("code", "150103")],
    ),
    case("内蒙古呼伦贝尔市鄂伦春自治旗", &[], &[("code", "150723")]),
    case(
        "宁夏银川市兴庆区",
        &[],
        &[("province", "宁夏回族自治区"), ("code", "640104")],
    ),
    case(
        "西藏自治区拉萨市",
        &[],
        &[("province", "西藏自治区"), ("city", "拉萨市")],
    ),
    case(
        "湖北省恩施州利川市",
        &[],
        &[
            ("city", "恩施土家族苗族自治州"),
            ("county", "利川市"),
            ("code", "422802"),
        ],
    ),
    case(
        "湖北长阳县龙舟坪镇",
        &[],
        &[
            ("county", "长阳土家族自治县"),
            ("township", "龙舟坪镇"),
            ("code", "420528"),
        ],
    ),
    case(
        "青海省海南州共和县",
        &[],
        &[
            ("province", "青海省"),
            ("city", "海南藏族自治州"),
            ("code", "632521"),
        ],
    ),
    // --- county-level cities / province-administered ------------------
    case(
        "湖北省仙桃市沙嘴街道",
        &[],
        &[
            ("city", ""),
            ("county", "仙桃市"),
            ("township", "沙嘴街道"),
            ("code", "429004"),
        ],
    ),
    case(
        "吉林市昌邑区",
        &[],
        &[
            ("province", "吉林省"),
            ("city", "吉林市"),
            ("code", "220202"),
        ],
    ),
    case("吉林省吉林市", &[], &[("city", "吉林市"), ("county", "")]),
    case(
        "广东省东莞市长安镇",
        &[],
        &[
            ("city", "东莞市"),
            ("county", ""),
            ("township", "长安镇"),
            ("code", "441900"),
        ],
    ),
    case(
        "江苏省苏州市昆山市玉山镇",
        &[],
        &[("county", "昆山市"), ("code", "320583")],
    ),
    case(
        "浙江义乌市稠城街道",
        &[],
        &[("city", "金华市"), ("county", "义乌市"), ("code", "330782")],
    ),
    // --- suffix fallback and non-split names ---------------------------
    case(
        "安徽省滁州市某某县新华乡",
        &[],
        &[
            ("city", "滁州市"),
            ("county", "某某县"),
            ("township", "新华乡"),
        ],
    ),
    case(
        "安徽省滁州市琅琊区清流街道菱溪社区",
        &[],
        &[
            ("county", "琅琊区"),
            ("township", "清流街道"),
            ("village", "菱溪社区"),
            ("code", "341102"),
        ],
    ),
    case(
        "幸福社区3栋201室",
        &[],
        &[
            ("county", ""),
            ("village", "幸福社区"),
            ("detail", "3栋201室"),
        ],
    ),
    case(
        "阳光花园小区5号楼",
        &[],
        &[
            ("county", ""),
            ("village", ""),
            ("detail", "阳光花园小区5号楼"),
        ],
    ),
    case(
        "炉桥镇集市街18号",
        &[],
        &[("township", "炉桥镇"), ("detail", "集市街18号")],
    ),
    case(
        "中山路12号",
        &[],
        &[("county", ""), ("city", ""), ("detail", "中山路12号")],
    ),
    case(
        "城关镇东街",
        &[],
        &[("county", ""), ("township", "城关镇"), ("detail", "东街")],
    ),
    case("长安镇", &[], &[("county", ""), ("township", "长安镇")]),
    case(
        "东方红村五组",
        &[],
        &[("county", ""), ("village", "东方红村"), ("detail", "五组")],
    ),
    case(
        "北京市朝阳区朝阳门外大街",
        &[],
        &[("code", "110105"), ("detail", "朝阳门外大街")],
    ),
    case(
        "江苏省南京市玄武区孝陵卫街道钟灵街社区",
        &[],
        &[
            ("township", "孝陵卫街道"),
            ("village", "钟灵街社区"),
            ("code", "320102"),
        ],
    ),
    case(
        "浙江省杭州市上城区解放路街道",
        &[],
        &[("township", "解放路街道"), ("code", "330102")],
    ),
    case(
        "北京市市辖区东城区",
        &[],
        &[("county", "东城区"), ("code", "110101")],
    ),
    case(
        "湖北省省直辖县级行政区划仙桃市",
        &[],
        &[("county", "仙桃市"), ("code", "429004")],
    ),
    case(
        "辽宁朝阳",
        &[],
        &[("province", "辽宁省"), ("city", "朝阳市"), ("county", "")],
    ),
    case(
        "辽宁省朝阳市朝阳县",
        &[],
        &[("city", "朝阳市"), ("county", "朝阳县"), ("code", "211321")],
    ),
    case("中国安徽省滁州市定远县", &[], &[("code", "341125")]),
    case(
        "安徽省,滁州市,定远县,炉桥镇",
        &[],
        &[("township", "炉桥镇"), ("code", "341125")],
    ),
    // --- hint columns --------------------------------------------------
    case(
        "",
        &[
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村委会"),
        ],
        &[
            ("province", "安徽省"),
            ("city", "滁州市"),
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村"),
            ("detail", ""),
            ("code", "341125"),
        ],
    ),
    case(
        "   ",
        &[("province", "安徽"), ("city", "滁州"), ("county", "定远")],
        &[("county", "定远县"), ("code", "341125")],
    ),
    case(
        "炉桥镇金岗村三组",
        &[("county", "定远")],
        &[
            ("county", "定远县"),
            ("township", "炉桥镇"),
            ("village", "金岗村"),
            ("detail", "三组"),
            ("code", "341125"),
        ],
    ),
    case(
        "金岗村三组",
        &[("region_code", "341125")],
        &[
            ("county", "定远县"),
            ("village", "金岗村"),
            ("code", "341125"),
        ],
    ),
    case(
        "",
        &[("region_code", "341100")],
        &[("province", "安徽省"), ("city", "滁州市"), ("county", "")],
    ),
    case(
        "定远县炉桥镇",
        &[("county", "凤阳县")],
        &[("county", "凤阳县"), ("code", "341126")],
    ),
    case(
        "",
        &[("county", "朝阳区")],
        &[("county", "朝阳区"), ("ambiguous", "true")],
    ),
    case(
        "",
        &[("province", "吉林省"), ("county", "朝阳区")],
        &[("city", "长春市"), ("code", "220104")],
    ),
    case("北京市", &[("county", "朝阳区")], &[("code", "110105")]),
    case(
        "",
        &[("city", "天长市")],
        &[("county", "天长市"), ("code", "341181")],
    ),
    case(
        "",
        &[("city", "北京市"), ("county", "海淀区")],
        &[("province", "北京市"), ("city", ""), ("code", "110108")],
    ),
    case(
        "安徽省滁州市定远县炉桥镇",
        &[("county", "定远县人民政府"), ("city", "滁州地区")],
        &[("city", "滁州市"), ("county", "定远县"), ("code", "341125")],
    ),
    case(
        "炉桥镇",
        &[("province", "皖"), ("city", "滁州地区")],
        &[
            ("province", "皖"),
            ("city", "滁州地区"),
            ("county", ""),
            ("township", "炉桥镇"),
        ],
    ),
    case(
        "",
        &[("county", "不存在县"), ("township", "某镇")],
        &[("county", "不存在县"), ("township", "某镇")],
    ),
    // --- garbage --------------------------------------------------------
    case("", &[], &[("province", ""), ("detail", "")]),
    case("   　 ", &[], &[("detail", "")]),
    case("不详", &[], &[("detail", "不详"), ("county", "")]),
    case("N/A", &[], &[("detail", "N/A")]),
    case("12345", &[], &[("detail", "12345")]),
    case("？？？", &[], &[("detail", "")]),
    case("😀安徽省滁州市", &[], &[("city", "滁州市")]),
    case(
        "安徽省某某市某某镇",
        &[],
        &[
            ("province", "安徽省"),
            ("city", "某某市"),
            ("county", ""),
            ("township", "某某镇"),
        ],
    ),
    case(
        "安徽省滁州市某某市某某镇",
        &[],
        &[
            ("city", "滁州市"),
            ("county", "某某市"),
            ("township", "某某镇"),
        ],
    ),
    case(
        "安徽省滁州市华联超市",
        &[],
        &[("county", ""), ("detail", "华联超市")],
    ),
    case("安徽大学", &[], &[("province", ""), ("detail", "安徽大学")]),
];
