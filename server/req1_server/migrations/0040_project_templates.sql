-- Project templates (extended contract §11): reusable project skeletons — modules with their attribute
-- definitions, object types, lifecycle model and optional seed objects, plus the link types they use. The
-- server checks template_data on every write (domain/templates.py); the database keeps names unique and the
-- built-ins, seeded here under the migration lock, flagged. Writes are audited like every other resource (0017);
-- instantiating one is audited by the server as `instantiate`.

CREATE TABLE project_template (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    description   text,
    standard      text,
    version       text,
    template_data jsonb NOT NULL DEFAULT '{"modules": [], "link_types": []}'::jsonb
        CHECK (jsonb_typeof(template_data) = 'object'),
    is_builtin    boolean NOT NULL DEFAULT false,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX project_template_order_idx ON project_template (is_builtin DESC, name, id);

CREATE TRIGGER audit_project_template AFTER INSERT OR UPDATE OR DELETE ON project_template
    FOR EACH ROW EXECUTE FUNCTION req1_audit_row();

-- The built-ins (§11.1), in the normalized form the server stores (every key, defaults filled). A database
-- that already has a template of one of these names keeps it, and the built-in is not added (ON CONFLICT).
INSERT INTO project_template (id, name, description, standard, version, template_data, is_builtin, created_by)
VALUES
    ('00000000-0000-0000-0000-000000000301', 'ISO 26262', 'Functional safety of road vehicles (automotive): safety goals, safety concepts and hardware and software safety requirements classified by ASIL.', 'ISO 26262', '2018',
     $template${
  "modules": [
    {
      "name": "Safety Requirements Specification",
      "prefix": "SRS",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "ASIL", "data_type": "enum", "enum_values": ["QM", "A", "B", "C", "D"]}, {"name": "Verification Method", "data_type": "enum", "enum_values": ["Review", "Analysis", "Simulation", "Test"]}],
      "object_types": [{"name": "Safety Goal", "default_classification": "normative", "required_attributes": ["ASIL"]}, {"name": "Functional Safety Requirement", "default_classification": "normative", "required_attributes": ["ASIL", "Verification Method"]}],
      "lifecycle_model": {"name": "ISO 26262 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "in_review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "draft"}, {"from": "in_review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Safety Goals", "body": null, "classification": "heading", "children": [{"heading": "SG-001", "body": "<p>The vehicle shall not accelerate unintentionally.</p>", "classification": "normative", "children": []}]},
        {"heading": "Functional Safety Requirements", "body": null, "classification": "heading", "children": [{"heading": "FSR-001", "body": "<p>The system shall detect sensor failures within 10 ms.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Technical Safety Concept",
      "prefix": "TSC",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "ASIL", "data_type": "enum", "enum_values": ["QM", "A", "B", "C", "D"]}, {"name": "Verification Method", "data_type": "enum", "enum_values": ["Review", "Analysis", "Simulation", "Test"]}],
      "object_types": [{"name": "Technical Safety Requirement", "default_classification": "normative", "required_attributes": ["ASIL"]}],
      "lifecycle_model": {"name": "ISO 26262 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "in_review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "draft"}, {"from": "in_review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Technical Safety Requirements", "body": null, "classification": "heading", "children": [{"heading": "TSR-001", "body": "<p>The MCU shall be supervised by a hardware watchdog with a timeout of 5 ms.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Hardware Safety Requirements",
      "prefix": "HWSR",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "ASIL", "data_type": "enum", "enum_values": ["QM", "A", "B", "C", "D"]}, {"name": "Verification Method", "data_type": "enum", "enum_values": ["Review", "Analysis", "Simulation", "Test"]}],
      "object_types": [{"name": "Hardware Safety Requirement", "default_classification": "normative", "required_attributes": ["ASIL"]}],
      "lifecycle_model": {"name": "ISO 26262 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "in_review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "draft"}, {"from": "in_review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Hardware Safety Requirements", "body": null, "classification": "heading", "children": [{"heading": "HWSR-001", "body": "<p>The hardware shall detect a supply brownout and shut down automatically.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Software Safety Requirements",
      "prefix": "SWSR",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "ASIL", "data_type": "enum", "enum_values": ["QM", "A", "B", "C", "D"]}, {"name": "Verification Method", "data_type": "enum", "enum_values": ["Review", "Analysis", "Simulation", "Test"]}],
      "object_types": [{"name": "Software Safety Requirement", "default_classification": "normative", "required_attributes": ["ASIL"]}],
      "lifecycle_model": {"name": "ISO 26262 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "in_review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "draft"}, {"from": "in_review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Software Safety Requirements", "body": null, "classification": "heading", "children": [{"heading": "SWSR-001", "body": "<p>The software shall test the RAM at startup.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Safety Validation Plan",
      "prefix": "SVP",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "ASIL", "data_type": "enum", "enum_values": ["QM", "A", "B", "C", "D"]}, {"name": "Verification Method", "data_type": "enum", "enum_values": ["Review", "Analysis", "Simulation", "Test"]}],
      "object_types": [{"name": "Validation Requirement", "default_classification": "normative", "required_attributes": ["Verification Method"]}],
      "lifecycle_model": {"name": "ISO 26262 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "in_review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "draft"}, {"from": "in_review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Validation Activities", "body": null, "classification": "heading", "children": [{"heading": "VAL-001", "body": "<p>Validation shall show that every safety goal is covered by the safety concept.</p>", "classification": "normative", "children": []}]}
      ]
    }
  ],
  "link_types": [
    {"name": "Satisfies", "description": "Source satisfies the target requirement"},
    {"name": "Verifies", "description": "Source verifies the target"},
    {"name": "Derives From", "description": "Source is derived from the target"}
  ]
}$template$::jsonb, true, NULL),
    ('00000000-0000-0000-0000-000000000302', 'DO-178C', 'Software considerations in airborne systems: system, high-level and low-level requirements, design and test cases by design assurance level.', 'DO-178C', '2011',
     $template${
  "modules": [
    {
      "name": "System Requirements",
      "prefix": "SYSREQ",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "DAL", "data_type": "enum", "enum_values": ["A", "B", "C", "D", "E"]}, {"name": "Software Level", "data_type": "enum", "enum_values": ["Level A", "Level B", "Level C", "Level D", "Level E"]}, {"name": "Derived Requirement", "data_type": "bool", "enum_values": null}],
      "object_types": [{"name": "System Requirement", "default_classification": "normative", "required_attributes": ["DAL"]}],
      "lifecycle_model": {"name": "DO-178C Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "System Requirements", "body": null, "classification": "heading", "children": [{"heading": "SYSREQ-001", "body": "<p>The system shall continuously monitor the flight-critical parameters.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "High-Level Requirements",
      "prefix": "HLR",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "DAL", "data_type": "enum", "enum_values": ["A", "B", "C", "D", "E"]}, {"name": "Software Level", "data_type": "enum", "enum_values": ["Level A", "Level B", "Level C", "Level D", "Level E"]}, {"name": "Derived Requirement", "data_type": "bool", "enum_values": null}],
      "object_types": [{"name": "High-Level Requirement", "default_classification": "normative", "required_attributes": ["DAL"]}],
      "lifecycle_model": {"name": "DO-178C Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "High-Level Requirements", "body": null, "classification": "heading", "children": [{"heading": "HLR-001", "body": "<p>The software shall process sensor input at a rate of at least 50 Hz.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Low-Level Requirements",
      "prefix": "LLR",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "DAL", "data_type": "enum", "enum_values": ["A", "B", "C", "D", "E"]}, {"name": "Software Level", "data_type": "enum", "enum_values": ["Level A", "Level B", "Level C", "Level D", "Level E"]}, {"name": "Derived Requirement", "data_type": "bool", "enum_values": null}],
      "object_types": [{"name": "Low-Level Requirement", "default_classification": "normative", "required_attributes": ["DAL"]}],
      "lifecycle_model": {"name": "DO-178C Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Low-Level Requirements", "body": null, "classification": "heading", "children": [{"heading": "LLR-001", "body": "<p>The ADC read function shall return a 12-bit unsigned value within 2 ms.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Software Design",
      "prefix": "SDD",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "DAL", "data_type": "enum", "enum_values": ["A", "B", "C", "D", "E"]}, {"name": "Software Level", "data_type": "enum", "enum_values": ["Level A", "Level B", "Level C", "Level D", "Level E"]}, {"name": "Derived Requirement", "data_type": "bool", "enum_values": null}],
      "object_types": [{"name": "Design Element", "default_classification": "normative", "required_attributes": []}],
      "lifecycle_model": {"name": "DO-178C Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Software Architecture", "body": null, "classification": "heading", "children": [{"heading": "SDD-001", "body": "<p>The software shall have a layered architecture that separates the application from the board support package (BSP).</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Test Cases",
      "prefix": "TC",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "DAL", "data_type": "enum", "enum_values": ["A", "B", "C", "D", "E"]}, {"name": "Software Level", "data_type": "enum", "enum_values": ["Level A", "Level B", "Level C", "Level D", "Level E"]}, {"name": "Derived Requirement", "data_type": "bool", "enum_values": null}],
      "object_types": [{"name": "Test Case", "default_classification": "normative", "required_attributes": ["DAL"]}],
      "lifecycle_model": {"name": "DO-178C Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Test Procedures", "body": null, "classification": "heading", "children": [{"heading": "TC-001", "body": "<p>The test procedure shall verify that sensor input is processed at a rate of 50 Hz.</p>", "classification": "normative", "children": []}]}
      ]
    }
  ],
  "link_types": [
    {"name": "Satisfies", "description": "Source satisfies the target requirement"},
    {"name": "Verifies", "description": "Source verifies the target"},
    {"name": "Derives From", "description": "Source is derived from the target"}
  ]
}$template$::jsonb, true, NULL),
    ('00000000-0000-0000-0000-000000000303', 'IEC 62304', 'Medical device software life cycle: software requirements, architecture and detailed design by software safety class.', 'IEC 62304', '2015',
     $template${
  "modules": [
    {
      "name": "Software Requirements Specification",
      "prefix": "SWRS",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "Safety Class", "data_type": "enum", "enum_values": ["A", "B", "C"]}, {"name": "Risk Control Measure", "data_type": "string", "enum_values": null}],
      "object_types": [{"name": "Software Requirement", "default_classification": "normative", "required_attributes": ["Safety Class"]}, {"name": "Risk Control Requirement", "default_classification": "normative", "required_attributes": ["Safety Class", "Risk Control Measure"]}],
      "lifecycle_model": {"name": "IEC 62304 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Functional Requirements", "body": null, "classification": "heading", "children": [{"heading": "SWRS-001", "body": "<p>The software shall refresh the displayed vital signs at a rate of at least 1 Hz.</p>", "classification": "normative", "children": []}]},
        {"heading": "Performance Requirements", "body": null, "classification": "heading", "children": [{"heading": "SWRS-002", "body": "<p>The software shall respond to an alarm condition within 250 ms.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Software Architecture",
      "prefix": "SWARCH",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "Safety Class", "data_type": "enum", "enum_values": ["A", "B", "C"]}, {"name": "Risk Control Measure", "data_type": "string", "enum_values": null}],
      "object_types": [{"name": "Architecture Element", "default_classification": "normative", "required_attributes": ["Safety Class"]}],
      "lifecycle_model": {"name": "IEC 62304 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Software Items", "body": null, "classification": "heading", "children": [{"heading": "SWARCH-001", "body": "<p>The software system shall be decomposed into software items with defined interfaces.</p>", "classification": "normative", "children": []}]},
        {"heading": "Segregation", "body": null, "classification": "heading", "children": [{"heading": "SWARCH-002", "body": "<p>Safety-critical software items shall be segregated from the other software items.</p>", "classification": "normative", "children": []}]}
      ]
    },
    {
      "name": "Detailed Design",
      "prefix": "SWDD",
      "separator": "-",
      "digits": 4,
      "default_classification": "normative",
      "attribute_definitions": [{"name": "Safety Class", "data_type": "enum", "enum_values": ["A", "B", "C"]}, {"name": "Risk Control Measure", "data_type": "string", "enum_values": null}],
      "object_types": [{"name": "Design Element", "default_classification": "normative", "required_attributes": ["Safety Class"]}],
      "lifecycle_model": {"name": "IEC 62304 Lifecycle", "initial_state": "draft", "states": [{"name": "draft", "color": "#6B7280", "description": null}, {"name": "review", "color": "#F59E0B", "description": null}, {"name": "approved", "color": "#10B981", "description": null}, {"name": "released", "color": "#3B82F6", "description": null}], "transitions": [{"from": "draft", "to": "review"}, {"from": "review", "to": "draft"}, {"from": "review", "to": "approved"}, {"from": "approved", "to": "released"}, {"from": "released", "to": "draft"}]},
      "seed_objects": [
        {"heading": "Software Unit Design", "body": null, "classification": "heading", "children": [{"heading": "SWDD-001", "body": "<p>Each software unit shall have a specified interface and specified error handling.</p>", "classification": "normative", "children": []}]},
        {"heading": "Algorithm Design", "body": null, "classification": "heading", "children": [{"heading": "SWDD-002", "body": "<p>Each algorithm shall be documented with the ranges of its inputs and outputs and its precision.</p>", "classification": "normative", "children": []}]}
      ]
    }
  ],
  "link_types": [
    {"name": "Satisfies", "description": "Source satisfies the target requirement"},
    {"name": "Implements", "description": "Source implements the target"},
    {"name": "Mitigates", "description": "Source mitigates the target risk"}
  ]
}$template$::jsonb, true, NULL)
ON CONFLICT DO NOTHING;
