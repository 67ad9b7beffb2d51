"""Drive a whole cycle through the REST API using nothing but each task's `schema` (no knowledge of the steps).

    python scripts/api_cycle.py --base-url http://127.0.0.1:5000 --password PASSWORD user1 user2 ...

Each named user signs in (POST /api/v1/auth/token); in turn each lists what they may act on
(GET /api/v1/tasks?tab=actionable), reads the task (GET /api/v1/tasks/{id}) and completes it
(POST /api/v1/tasks/{id}/complete) with the simplest payload its JSON Schema accepts (`example`). It stops when no
user has anything left, and prints each step it completed. Only the standard library: run it against any server.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import Any


def example(schema: dict[str, Any], year: int = 2025) -> Any:
    """The simplest value SCHEMA accepts: required properties (and those required when another has a value), the first
    allowed option, lower bounds, the items an array must start with."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    if kind == "object":
        value = {name: example(schema["properties"][name], year) for name in schema.get("required", [])}
        for rule in schema.get("allOf", []):
            (name, test), = rule["if"]["properties"].items()
            if value.get(name) == test["const"]:
                value.update({n: example(schema["properties"][n], year) for n in rule["then"]["required"]})
        if "if" in schema and all(value.get(k) == v.get("const") for k, v in schema["if"]["properties"].items()):
            value.update({n: "—" for n in schema.get("then", {}).get("required", []) if n not in value})
        return value
    if kind == "integer":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        return [example(item, year) for item in schema.get("prefixItems", [])]
    if schema.get("format") == "date":
        return f"{year}-12-31"
    return "x" * max(schema.get("minLength", 0), 1)


class Client:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request) as response:  # noqa: S310 - the URL is the operator's own server
            return json.load(response)


def drive(client: Client, tokens: dict[str, str], limit: int = 500) -> list[tuple[str, str, str | None]]:
    """Complete every task the users may act on, until none is left; (user, step, unit) of each completion."""
    done: list[tuple[str, str, str | None]] = []
    progress = True
    while progress and len(done) < limit:
        progress = False
        for user, token in tokens.items():
            items = client.call("GET", "/tasks?tab=actionable&per_page=100", token)["items"]
            for item in items:
                task = client.call("GET", f"/tasks/{item['id']}", token)
                if not task.get("may_act") or not task.get("schema"):
                    continue
                data = example(task["schema"], task.get("year") or 2025)
                client.call("POST", f"/tasks/{item['id']}/complete", token, {"data": data})
                done.append((user, task["step_id"], task.get("unit_code")))
                progress = True
    return done


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--password", required=True)
    parser.add_argument("users", nargs="+")
    args = parser.parse_args(argv)
    client = Client(args.base_url)
    tokens = {u: client.call("POST", "/auth/token", body={"username": u, "password": args.password})["token"]
              for u in args.users}
    for user, step, unit in drive(client, tokens):
        print(f"{user:>16}  {step}  {unit or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
