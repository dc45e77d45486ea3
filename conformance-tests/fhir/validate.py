#!/usr/bin/env python3
"""Validates FHIR R5 JSON with fhir.resources (independent of hemobridge's
Rust models).

Usage: validate.py [FILE ...]   (no file, or "-": read stdin)

Each input is one JSON resource (a Bundle is validated with every entry's
resource). Prints "ok <file> <resourceType>" per valid input; on the first
invalid one prints the validation error to stderr and exits 1. Exit 2 when
fhir.resources is not installed or the input is not JSON.
"""
import json
import sys

try:
    import fhir.resources
    from fhir.resources import get_fhir_model_class
except ImportError as e:  # pragma: no cover - reported to the caller
    print(f"fhir.resources is not installed: {e}", file=sys.stderr)
    sys.exit(2)

# fhir.resources 7.x and 8.x default to R5 models.
if not fhir.resources.__version__.startswith(("7.", "8.")):
    print(f"fhir.resources {fhir.resources.__version__}: need 7.x or 8.x (R5)", file=sys.stderr)
    sys.exit(2)


def validate(obj):
    resource_type = obj.get("resourceType")
    if not isinstance(resource_type, str):
        raise ValueError("resourceType missing")
    model = get_fhir_model_class(resource_type)
    if hasattr(model, "model_validate"):  # pydantic 2 (fhir.resources 8)
        model.model_validate(obj)
    else:  # pydantic 1 (fhir.resources 7)
        model.parse_obj(obj)
    return resource_type


def main(argv):
    names = argv[1:] or ["-"]
    for name in names:
        try:
            text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
            obj = json.loads(text)
        except (OSError, ValueError) as e:
            print(f"{name}: not readable JSON: {e}", file=sys.stderr)
            return 2
        try:
            kind = validate(obj)
        except Exception as e:  # the model's ValidationError, or a bad type
            print(f"{name}: INVALID: {e}", file=sys.stderr)
            return 1
        print(f"ok {name} {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
