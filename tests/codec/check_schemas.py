#!/usr/bin/env python3
"""Checks the `data` of encoded messages against deploy/schemas/.

Usage: check_schemas.py SCHEMA_DIR SAMPLE_DIR

Every schema must be a valid Draft 2020-12 schema, every sample type must
have a schema and every schema a sample, and every sample's `data` must
validate. The check must be able to fail: a sample with a required member
removed, and one with a member of the wrong type, must be refused.
"""
import copy
import json
import pathlib
import sys

import jsonschema

schemas_dir = pathlib.Path(sys.argv[1])
samples_dir = pathlib.Path(sys.argv[2])
failures = []

schemas = {}
for path in sorted(schemas_dir.glob("*.v1.json")):
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    schemas[path.name[: -len(".v1.json")]] = schema

samples = {}
for path in sorted(samples_dir.glob("*.json")):
    samples[path.name[: -len(".json")]] = json.loads(path.read_text())

for name in sorted(set(samples) - set(schemas)):
    failures.append(f"{name}: no schema in {schemas_dir}")
for name in sorted(set(schemas) - set(samples)):
    failures.append(f"{name}: a schema but no message of that type")

for name, message in sorted(samples.items()):
    schema = schemas.get(name)
    if schema is None:
        continue
    if message.get("type") != name:
        failures.append(f"{name}: the message's type is {message.get('type')}")
    if message.get("dataschema") != f"{name}/v1":
        failures.append(f"{name}: dataschema is {message.get('dataschema')}")
    validator = jsonschema.Draft202012Validator(schema)
    data = message.get("data")
    for error in validator.iter_errors(data):
        failures.append(f"{name}: {error.json_path}: {error.message}")
    # The check bites: drop each required member in turn, then break a type.
    for member in schema.get("required", []):
        broken = copy.deepcopy(data)
        broken.pop(member, None)
        if validator.is_valid(broken):
            failures.append(f"{name}: still valid without {member}")
    broken = copy.deepcopy(data)
    first = schema["required"][0]
    broken[first] = 12345 if isinstance(data[first], str) else "text"
    if validator.is_valid(broken):
        failures.append(f"{name}: still valid with a wrong type of {first}")

for failure in failures:
    print(failure)
print(f"{len(samples)} messages against {len(schemas)} schemas: "
      f"{len(failures)} problems")
sys.exit(1 if failures else 0)
