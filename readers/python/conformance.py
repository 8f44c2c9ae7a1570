"""Runs the language-neutral conformance vectors (conformance/*.json) against lethe_reader and a real Redis.

    /usr/bin/python3 readers/python/conformance.py --redis redis://127.0.0.1:6379/2

It FLUSHes the database it is given before every case: give it one of its own. Exit status 0 when
every case passes; each failure is printed with what was expected and what came. cache-client's
ConformanceIT runs the same vectors through the Java client, and this script too, in `mvn verify`.
"""

import argparse
import datetime
import decimal
import json
import os
import sys
import uuid

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lethe_reader  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
GROUP = "conformance"
FENCE_TTL_MS = 60_000
TTL_MS = 600_000


def typed(value):
    """A vector's typed value as the Python value a driver (psycopg) returns for it."""
    if value is None:
        return None
    (kind, v), = value.items()
    if kind == "text":
        return v
    if kind == "int":
        return int(v)
    if kind == "numeric":
        return decimal.Decimal(v)
    if kind == "bool":
        return bool(v)
    if kind == "uuid":
        return uuid.UUID(v)
    if kind == "date":
        return datetime.date.fromisoformat(v)
    if kind == "timestamptz":
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if kind == "timestamp":
        return datetime.datetime.fromisoformat(v)
    if kind == "bytea":
        return bytes.fromhex(v)
    raise ValueError(f"unknown value kind {kind}")


def check_keys(vectors, fail):
    for case in vectors["templates"]:
        where = f"template {case['template']!r} row {case['row']}"
        try:
            key = lethe_reader.KeyTemplate(case["template"]).render({c: typed(v) for c, v in case["row"].items()})
        except (lethe_reader.TemplateError, KeyError, TypeError) as e:
            if "error" not in case:
                fail(f"{where}: refused ({e}), expected key {case['key']!r}")
            continue
        if "error" in case:
            fail(f"{where}: rendered {key!r}, expected an error ({case['error']})")
        elif key != case["key"]:
            fail(f"{where}: rendered {key!r}, expected {case['key']!r}")
    for case in vectors["globs"]:
        where = f"glob of template {case['template']!r} bound {case['bound']}"
        got = lethe_reader.KeyTemplate(case["template"]).glob({c: typed(v) for c, v in case["bound"].items()})
        if got != case["glob"]:
            fail(f"{where}: {got!r}, expected {case['glob']!r}")
    for case in vectors["fences"]:
        got = lethe_reader.fence_key(case["key"])
        if got != case["fence"]:
            fail(f"fence of {case['key']!r}: {got!r}, expected {case['fence']!r}")


def apply_op(r, reader, op):
    kind = op["op"]
    if kind == "entry":
        r.hset(op["key"], mapping={"v": op["v"], "d": op["d"]})
    elif kind == "negative":
        r.hset(op["key"], mapping={"v": op["v"], "d": "", "nf": "1"})
    elif kind == "legacy":
        r.set(op["key"], op["value"])
    elif kind == "invalidate":
        reader.invalidate_script([op["key"], lethe_reader.fence_key(op["key"])], [op["version"], str(FENCE_TTL_MS), "1000"])
    elif kind == "bump_epoch":
        r.incr(lethe_reader.epoch_key(op["namespace"]))
    elif kind == "holds":
        r.set(lethe_reader.holds_key(op["namespace"]), lethe_reader.render_holds(op["holds"]))
    elif kind == "drop_fence":
        r.delete(lethe_reader.fence_key(op["key"]))
    elif kind == "watermark":
        r.delete(lethe_reader.APPLIED_LSN_PREFIX + GROUP)
        r.hset(lethe_reader.APPLIED_LSN_PREFIX + GROUP, mapping=op["fields"])
    else:
        raise ValueError(f"unknown op {kind}")


def check_reads(r, vectors, fail):
    reader = lethe_reader.Reader(r, os.path.join(ROOT, "schemas", "src", "main", "resources", "lua"),
                                 fence_ttl_ms=FENCE_TTL_MS, applied_group=GROUP)
    for case in vectors["cases"]:
        r.flushdb()
        for op in case["setup"]:
            apply_op(r, reader, op)
        loads = []

        def loader(key, case=case):
            loads.append(key)
            for op in case["during_load"]:
                apply_op(r, reader, op)
            load = case["load"]
            if load.get("not_found"):
                return lethe_reader.Loaded.not_found()
            return lethe_reader.Loaded(load["value"].encode("utf-8"), load["version"])

        ns = reader.namespace(case["namespace"], ttl_ms=TTL_MS, negative_ttl_ms=case.get("negative_ttl_ms", 0),
                              holds=case.get("holds"))
        token = case.get("token")
        value = ns.get(case["key"], loader, lethe_reader.ReadToken(token["lsn"], token["history"]) if token else None)
        expect = case["expect"]
        returned = None if value is None else value.decode("utf-8")
        if returned != expect["returned"]:
            fail(f"{case['name']}: returned {returned!r}, expected {expect['returned']!r}")
        if len(loads) != expect["loads"]:
            fail(f"{case['name']}: {len(loads)} loads, expected {expect['loads']}")
        entry = entry_of(r, case["key"])
        if entry != expect["entry"]:
            fail(f"{case['name']}: entry {entry}, expected {expect['entry']}")
        if "fence" in expect:
            fence = r.hget(lethe_reader.fence_key(case["key"]), "v")
            got = None if fence is None else {"v": fence.decode()}
            if got != expect["fence"]:
                fail(f"{case['name']}: fence {got}, expected {expect['fence']}")
        if "ttl_above_ms" in expect and r.pttl(case["key"]) <= expect["ttl_above_ms"]:
            fail(f"{case['name']}: entry TTL {r.pttl(case['key'])} ms, expected above {expect['ttl_above_ms']} (the lease confirmed)")


def entry_of(r, key):
    if r.type(key) != b"hash":
        return None
    fields = {k.decode(): v.decode() for k, v in r.hgetall(key).items()}
    entry = {"v": fields.get("v"), "d": fields.get("d")}
    if fields.get("nf") == "1":
        entry["nf"] = True
    return entry


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redis", required=True, help="redis://host:port/db, a database of its own (it is flushed)")
    p.add_argument("--vectors", default=os.path.join(ROOT, "conformance"))
    args = p.parse_args()
    failures = []
    with open(os.path.join(args.vectors, "keys.json"), encoding="utf-8") as f:
        check_keys(json.load(f), failures.append)
    r = redis.Redis.from_url(args.redis)
    with open(os.path.join(args.vectors, "reads.json"), encoding="utf-8") as f:
        reads = json.load(f)
    check_reads(r, reads, failures.append)
    for f in failures:
        print("FAIL", f)
    total = len(reads["cases"])
    print(f"python reader: {total} read cases and the key vectors, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
