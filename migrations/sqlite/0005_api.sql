-- The registry's readers: API keys (only a hash of each key is kept) and the change feed.
--
-- Every write to persons, households, flags, evidence, case history and identity changes adds
-- a row to change_log in the same transaction (triggers below), so the feed holds a change
-- exactly when the registry does. SQLite has one writer at a time: seq is commit order.

CREATE TABLE api_keys (
    name TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    region_code TEXT,
    key_hash TEXT NOT NULL UNIQUE,
    rate_per_second INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL,
    region_code TEXT,
    data TEXT
);
CREATE INDEX change_log_by_at ON change_log (at);

-- The newest seq removed by pruning (`lifeline changes prune`): a reader whose cursor is older
-- has missed changes and must take a new snapshot.
CREATE TABLE change_log_horizon (
    id INTEGER PRIMARY KEY,
    pruned_through BIGINT NOT NULL
);
INSERT INTO change_log_horizon (id, pruned_through) VALUES (1, 0);

CREATE TRIGGER change_log_persons_insert AFTER INSERT ON persons BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'person', NEW.person_id, 'insert', NEW.region_code,
            json_object('person_id', NEW.person_id, 'household_id', NEW.household_id, 'household_role', NEW.household_role, 'name', NEW.name, 'id_number', NEW.id_number, 'gender', NEW.gender, 'birth_date', NEW.birth_date, 'phone', NEW.phone, 'address', NEW.address, 'region_code', NEW.region_code, 'mentions', NEW.mentions, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_persons_update AFTER UPDATE ON persons BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'person', NEW.person_id, 'update', NEW.region_code,
            json_object('person_id', NEW.person_id, 'household_id', NEW.household_id, 'household_role', NEW.household_role, 'name', NEW.name, 'id_number', NEW.id_number, 'gender', NEW.gender, 'birth_date', NEW.birth_date, 'phone', NEW.phone, 'address', NEW.address, 'region_code', NEW.region_code, 'mentions', NEW.mentions, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_persons_delete AFTER DELETE ON persons BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'person', OLD.person_id, 'delete', OLD.region_code, NULL);
END;

CREATE TRIGGER change_log_households_insert AFTER INSERT ON households BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'household', NEW.household_id, 'insert', NEW.region_code,
            json_object('household_id', NEW.household_id, 'head_person_id', NEW.head_person_id, 'address', NEW.address, 'region_code', NEW.region_code, 'township', NEW.township, 'village', NEW.village, 'members', NEW.members, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_households_update AFTER UPDATE ON households BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'household', NEW.household_id, 'update', NEW.region_code,
            json_object('household_id', NEW.household_id, 'head_person_id', NEW.head_person_id, 'address', NEW.address, 'region_code', NEW.region_code, 'township', NEW.township, 'village', NEW.village, 'members', NEW.members, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_households_delete AFTER DELETE ON households BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'household', OLD.household_id, 'delete', OLD.region_code, NULL);
END;

CREATE TRIGGER change_log_risk_flags_insert AFTER INSERT ON risk_flags BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'flag', CAST(NEW.flag_id AS TEXT), 'insert', NEW.region_code,
            json_object('flag_id', NEW.flag_id, 'household_id', NEW.household_id, 'level', NEW.level, 'level_rank', NEW.level_rank, 'score', NEW.score, 'rules', NEW.rules, 'reasons', NEW.reasons, 'reasons_json', NEW.reasons_json, 'covered', NEW.covered, 'person_ids', NEW.person_ids, 'region_code', NEW.region_code, 'county', NEW.county, 'township', NEW.township, 'village', NEW.village, 'responsible_unit', NEW.responsible_unit, 'assignee', NEW.assignee, 'status', NEW.status, 'rule_set_version', NEW.rule_set_version, 'opened_on', NEW.opened_on, 'due_date', NEW.due_date, 'closed_on', NEW.closed_on, 'dismiss_reason', NEW.dismiss_reason, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_risk_flags_update AFTER UPDATE ON risk_flags BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'flag', CAST(NEW.flag_id AS TEXT), 'update', NEW.region_code,
            json_object('flag_id', NEW.flag_id, 'household_id', NEW.household_id, 'level', NEW.level, 'level_rank', NEW.level_rank, 'score', NEW.score, 'rules', NEW.rules, 'reasons', NEW.reasons, 'reasons_json', NEW.reasons_json, 'covered', NEW.covered, 'person_ids', NEW.person_ids, 'region_code', NEW.region_code, 'county', NEW.county, 'township', NEW.township, 'village', NEW.village, 'responsible_unit', NEW.responsible_unit, 'assignee', NEW.assignee, 'status', NEW.status, 'rule_set_version', NEW.rule_set_version, 'opened_on', NEW.opened_on, 'due_date', NEW.due_date, 'closed_on', NEW.closed_on, 'dismiss_reason', NEW.dismiss_reason, 'created_at', NEW.created_at, 'updated_at', NEW.updated_at));
END;

CREATE TRIGGER change_log_risk_flags_delete AFTER DELETE ON risk_flags BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'flag', CAST(OLD.flag_id AS TEXT), 'delete', OLD.region_code, NULL);
END;

CREATE TRIGGER change_log_risk_evidence_insert AFTER INSERT ON risk_evidence BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'evidence', NEW.flag_id || ':' || NEW.record_id || ':' || NEW.rule, 'insert', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = NEW.flag_id),
            json_object('flag_id', NEW.flag_id, 'record_id', NEW.record_id, 'rule', NEW.rule, 'person_id', NEW.person_id, 'added_on', NEW.added_on));
END;

CREATE TRIGGER change_log_risk_evidence_update AFTER UPDATE ON risk_evidence BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'evidence', NEW.flag_id || ':' || NEW.record_id || ':' || NEW.rule, 'update', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = NEW.flag_id),
            json_object('flag_id', NEW.flag_id, 'record_id', NEW.record_id, 'rule', NEW.rule, 'person_id', NEW.person_id, 'added_on', NEW.added_on));
END;

CREATE TRIGGER change_log_risk_evidence_delete AFTER DELETE ON risk_evidence BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'evidence', OLD.flag_id || ':' || OLD.record_id || ':' || OLD.rule, 'delete', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = OLD.flag_id), NULL);
END;

CREATE TRIGGER change_log_case_history_insert AFTER INSERT ON case_history BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'case_event', CAST(NEW.id AS TEXT), 'insert', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = NEW.flag_id),
            json_object('id', NEW.id, 'flag_id', NEW.flag_id, 'at', NEW.at, 'on_date', NEW.on_date, 'action', NEW.action, 'from_status', NEW.from_status, 'to_status', NEW.to_status, 'from_unit', NEW.from_unit, 'to_unit', NEW.to_unit, 'level', NEW.level, 'actor', NEW.actor, 'note', NEW.note));
END;

CREATE TRIGGER change_log_case_history_update AFTER UPDATE ON case_history BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'case_event', CAST(NEW.id AS TEXT), 'update', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = NEW.flag_id),
            json_object('id', NEW.id, 'flag_id', NEW.flag_id, 'at', NEW.at, 'on_date', NEW.on_date, 'action', NEW.action, 'from_status', NEW.from_status, 'to_status', NEW.to_status, 'from_unit', NEW.from_unit, 'to_unit', NEW.to_unit, 'level', NEW.level, 'actor', NEW.actor, 'note', NEW.note));
END;

CREATE TRIGGER change_log_case_history_delete AFTER DELETE ON case_history BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'case_event', CAST(OLD.id AS TEXT), 'delete', (SELECT f.region_code FROM risk_flags f WHERE f.flag_id = OLD.flag_id), NULL);
END;

CREATE TRIGGER change_log_identity_changes_insert AFTER INSERT ON identity_changes BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'identity', CAST(NEW.id AS TEXT), 'insert', COALESCE((SELECT p.region_code FROM persons p WHERE p.person_id = NEW.subject_id), (SELECT p.region_code FROM persons p WHERE p.person_id = NEW.other_id)),
            json_object('id', NEW.id, 'changed_at', NEW.changed_at, 'kind', NEW.kind, 'subject_id', NEW.subject_id, 'other_id', NEW.other_id, 'reason', NEW.reason));
END;

CREATE TRIGGER change_log_identity_changes_update AFTER UPDATE ON identity_changes BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'identity', CAST(NEW.id AS TEXT), 'update', COALESCE((SELECT p.region_code FROM persons p WHERE p.person_id = NEW.subject_id), (SELECT p.region_code FROM persons p WHERE p.person_id = NEW.other_id)),
            json_object('id', NEW.id, 'changed_at', NEW.changed_at, 'kind', NEW.kind, 'subject_id', NEW.subject_id, 'other_id', NEW.other_id, 'reason', NEW.reason));
END;

CREATE TRIGGER change_log_identity_changes_delete AFTER DELETE ON identity_changes BEGIN
    INSERT INTO change_log (at, entity, entity_id, op, region_code, data)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'identity', CAST(OLD.id AS TEXT), 'delete', NULL, NULL);
END;
