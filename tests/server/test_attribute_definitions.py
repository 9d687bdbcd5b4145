"""Attribute definitions: validation messages, duplicates, in-use protection, allowed values, typed defaults."""

from __future__ import annotations

from typing import Any

import pytest
from domain_api import Api


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def test_definitions(api: Api) -> None:
    m = (await api.module())["id"]
    base = f"/modules/{m}/attribute-definitions"
    prio = await api.post(base, {"name": "prio", "data_type": "enum", "enum_values": ["low", "high"],
                                 "default_value": "low"})
    assert prio["module_id"] == m and prio["multi_select"] is False and prio["depends_on"] is None
    flag = await api.post(base, {"name": "safety", "data_type": "boolean", "default_value": "false"})
    assert flag["data_type"] == "bool"
    for body, message in [
        ({"name": "x", "data_type": "blob"}, "invalid data_type 'blob'"),
        ({"name": "x", "data_type": "enum"}, "enum type requires a non-empty enum_values array"),
        ({"name": "x", "data_type": "string", "enum_values": ["a"]},
         "enum_values may only be set when data_type is 'enum', not 'string'"),
        ({"name": "x", "data_type": "integer", "default_value": "abc"}, "default_value 'abc' is not a valid integer"),
        ({"name": " ", "data_type": "string"}, "name must not be empty"),
    ]:
        await api.error("POST", base, body, status=400, message=message)
    await api.error("POST", base, {"name": "prio", "data_type": "string"}, status=409)
    obj = await api.obj(m, heading="o")
    assert obj["attributes"] == {"prio": "low", "safety": False}  # typed defaults
    await api.error("PATCH", f"{base}/{prio['id']}", {"enum_values": ["high"], "default_value": "high"}, status=409,
                    message="attribute definition 'prio' is in use by 1 objects")
    await api.error("PATCH", f"{base}/{prio['id']}", {"name": "priority"}, status=409)
    await api.error("DELETE", f"{base}/{prio['id']}", status=409)
    widened = await api.patch(f"{base}/{prio['id']}", {"enum_values": ["low", "high", "mid"],
                                                       "dependency_mapping": {"high": ["a", "b"]}})
    assert widened["enum_values"] == ["low", "high", "mid"]
    assert await api.get(f"{base}/{prio['id']}/allowed-values?parent_value=high") == ["a", "b"]
    assert await api.get(f"{base}/{prio['id']}/allowed-values?parent_value=zzz") == []
    await api.patch(f"/modules/{m}/objects/{obj['id']}", {"attributes": {"safety": True}})
    await api.delete(f"{base}/{prio['id']}")
    listing = await api.get(base)
    assert [d["name"] for d in listing["items"]] == ["safety"]
    await api.error("GET", f"{base}/{prio['id']}", status=404)
