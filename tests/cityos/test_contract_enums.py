"""The city-OS enumerations are written once (``cityos/contract.py``) and equal the contract."""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from cityos import contract, payloads
from cityos.reference_server import app

OPENAPI = Path(__file__).resolve().parents[2] / "cityos" / "openapi.yaml"


def test_each_enumeration_equals_its_schema_in_openapi_yaml():
    schemas = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]
    assert set(contract.SCHEMA_ENUMS) <= set(schemas)
    for name, literal in contract.SCHEMA_ENUMS.items():
        assert list(typing.get_args(literal)) == schemas[name]["enum"], name


def test_the_connector_and_the_reference_server_type_with_the_same_enumerations():
    for name in ("StatusState", "DataItem", "ShareTarget"):
        assert getattr(payloads, name) is contract.SCHEMA_ENUMS[name], name
        assert getattr(app, name) is contract.SCHEMA_ENUMS[name], name
    assert payloads.EventKind is contract.EventKind
