"""A reference read path for Lethe caches, in Python (redis-py).

It implements the reader's side of the contract in docs/subscribing.md ("Redis layout, for readers in
other languages"): key rendering, fence keys, the miss protocol (entry, fence counter and namespace
epoch in one round trip; load; fill.lua; epoch re-check and undo; the fill lease), negative entries
and read-your-writes tokens against a region's applied watermark. It is the second implementation
the conformance suite (conformance/) holds the Java client to; both must give the same answers.

What it leaves out, on purpose: a near cache, single-flight, stale-while-revalidate, bounded
staleness, the fill lock, shadow reads and metrics (cache-client has them; an application that
needs them in Python builds them on top). Every fill follows the contract, so leaving these out can
cost database loads, never a stale value.

    import redis, lethe_reader
    r = redis.Redis(host="127.0.0.1", port=6379)
    reader = lethe_reader.Reader(r, scripts_dir="schemas/src/main/resources/lua")
    products = reader.namespace("product", ttl_ms=600_000)
    key = lethe_reader.KeyTemplate("product:{id}").render({"id": 42})
    value = products.get(key, lambda k: lethe_reader.Loaded(b"...", version="17"))
"""

import datetime
import decimal
import hashlib
import os
import random
import re
import time
import uuid

FENCE_PREFIX = "lethe:fence:"
EPOCH_PREFIX = "lethe:epoch:"
# What a namespace's entries hold in a region's Redis (RedisLayout.HOLDS_PREFIX): the parts of the namespace's
# NamespaceConfig.readerHolds() joined with HOLDS_SEPARATOR, written by the region consumer.
HOLDS_PREFIX = "lethe:holds:"
HOLDS_SEPARATOR = ";"
APPLIED_LSN_PREFIX = "lethe:lsn:"
SLOTS = 16384
# A fill is written with this TTL until its namespace epoch is confirmed (as cache-client does).
FILL_LEASE_MS = 10_000

FILL_ACCEPTED = 1


# ----------------------------------------------------------------------------------- keys ---

# Key format 2 (issue 34): a value's text goes into the key with each of these characters written as
# % and its two upper-case hex digits, so no value can render the separator ':', a hash-tag brace or a
# glob metacharacter (KeyFormat.escape in Java; docs/subscribing.md, "Keys" and "Upgrading from key format 1").
KEY_FORMAT = 2
RESERVED = "%:{}*?[]\\"


def escape(text):
    """A value's text as a key holds it: each RESERVED character written %XX (upper-case hex)."""
    return "".join("%%%02X" % ord(c) if c in RESERVED else c for c in text)


def escape_glob(text):
    """Redis glob metacharacters escaped, so text matches only itself."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class TemplateError(ValueError):
    """A key template that cannot be parsed; the message says what and where."""


_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class KeyTemplate:
    """A key template as written in lethe.yml: literal text with {column} placeholders, {{ and }} for braces."""

    def __init__(self, text):
        if not text:
            raise TemplateError("a key template must not be empty")
        self.text = text
        self.parts = []  # ("lit", text) or ("col", name)
        literal, i = [], 0
        while i < len(text):
            c = text[i]
            if c == "{" and text[i + 1:i + 2] == "{":
                literal.append("{"); i += 2
            elif c == "}" and text[i + 1:i + 2] == "}":
                literal.append("}"); i += 2
            elif c == "{":
                close = text.find("}", i + 1)
                if close < 0:
                    raise TemplateError(f"unclosed '{{' at position {i} in '{text}'")
                name = text[i + 1:close]
                if not _COLUMN.match(name):
                    raise TemplateError(f"'{{{name}}}' at position {i} in '{text}' is not a column name")
                if literal:
                    self.parts.append(("lit", "".join(literal))); literal = []
                self.parts.append(("col", name))
                i = close + 1
            elif c == "}":
                raise TemplateError(f"unmatched '}}' at position {i} in '{text}'")
            else:
                literal.append(c); i += 1
        if literal:
            self.parts.append(("lit", "".join(literal)))

    def columns(self):
        seen = []
        for kind, v in self.parts:
            if kind == "col" and v not in seen:
                seen.append(v)
        return seen

    def render(self, row):
        """The key for a row's values, or None when a key column is NULL (the row has no such key).

        Values are rendered as pg_text() does, then escape()d; a missing column raises KeyError."""
        out = []
        for kind, v in self.parts:
            if kind == "lit":
                out.append(v)
                continue
            if v not in row:
                raise KeyError(f"key template '{self.text}' needs column '{v}'")
            if row[v] is None:
                return None
            out.append(escape(pg_text(row[v])))
        return "".join(out)

    def glob(self, bound):
        """A Redis MATCH glob for the keys rendered with the columns of bound holding those values and
        every other column any value: literals and bound values glob-escaped, each other column '*'."""
        out = []
        for kind, v in self.parts:
            if kind == "lit":
                out.append(escape_glob(v))
            elif v in bound:
                if bound[v] is None:
                    raise ValueError(f"column '{v}' of key template '{self.text}' is bound to NULL: no key has it")
                out.append(escape_glob(escape(pg_text(bound[v]))))
            elif not out or not out[-1] == "*":
                out.append("*")
        return "".join(out)


def pg_text(value):
    """The text PostgreSQL prints for a value (col::text with TimeZone = 'UTC', default output settings).

    str is taken as PostgreSQL's text already (e.g. selected as col::text): the way to match any type
    exactly. int, bool, decimal.Decimal (keeping its scale), uuid.UUID, datetime.date,
    datetime.datetime (aware: timestamptz, printed in UTC with +00; naive: timestamp), bytes (bytea,
    hex) are rendered here. float is refused: PostgreSQL's shortest-digits output has corner cases a
    Python float's repr does not follow; select such columns as col::text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return "NaN"
        if value.is_infinite():
            return "Infinity" if value > 0 else "-Infinity"
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return _timestamp(value) + "+00"
        return _timestamp(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"no key text is defined for a {type(value).__name__}; pass PostgreSQL's own text (SELECT col::text)")


def _timestamp(t):
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        text += ("." + f"{t.microsecond:06d}").rstrip("0")
    return text


def crc16(data):
    """CRC16/XMODEM, as Redis Cluster uses for slots."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return crc


def hash_tag(key):
    """The key's Redis Cluster hash tag (text between the first { and the next }), or None."""
    open_ = key.find("{")
    if open_ < 0:
        return None
    close = key.find("}", open_ + 1)
    if close < 0 or close == open_ + 1:
        return None
    return key[open_ + 1:close]


def slot(key):
    tag = hash_tag(key)
    return crc16((tag if tag is not None else key).encode("utf-8")) % SLOTS


_slot_tags = None


def slot_tag(s):
    """The smallest non-negative integer, as decimal text, whose slot is s."""
    global _slot_tags
    if _slot_tags is None:
        tags, n = [None] * SLOTS, 0
        found = 0
        while found < SLOTS:
            t = str(n)
            sl = crc16(t.encode("ascii")) % SLOTS
            if tags[sl] is None:
                tags[sl] = t
                found += 1
            n += 1
        _slot_tags = tags
    return _slot_tags[s]


def fence_key(key):
    """lethe:fence:{<tag>}:<key>, always in the key's slot (docs/subscribing.md, "Fence")."""
    tag = hash_tag(key)
    if tag is None:
        tag = key if "}" not in key else slot_tag(slot(key))
    return FENCE_PREFIX + "{" + tag + "}:" + key


def epoch_key(namespace):
    return EPOCH_PREFIX + namespace


def holds_key(namespace):
    return HOLDS_PREFIX + namespace


def render_holds(holds):
    """The holds key's value for a namespace's readerHolds() list (RedisLayout.holds in Java)."""
    return HOLDS_SEPARATOR.join(holds)


# -------------------------------------------------------------------------------- reading ---

class Loaded:
    """What a loader found: the payload (bytes) and the row's version (decimal text, None when unknown)."""

    def __init__(self, value, version=None, found=True):
        self.value = value
        self.version = version
        self.found = found

    @staticmethod
    def not_found(version=None):
        return Loaded(None, version, found=False)


class ReadToken:
    """Read-your-writes: a position on the primary and its source history (docs/subscribing.md)."""

    TOKEN_SQL = ("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint, "
                 "(SELECT system_identifier::text FROM pg_control_system()) || '/' || "
                 "(('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int)::text")

    def __init__(self, lsn, history):
        self.lsn = int(lsn)
        self.history = history


def applied_watermark(fields, history):
    """The region's applied watermark for a token of `history`, or None when unknown.

    `fields` is HGETALL lethe:lsn:<group> as str -> str: the smallest partition LSN, known only when
    every partition 0..partitions-1 has one and every h:<p> field equals `history`."""
    try:
        partitions = int(fields.get("partitions", "0"))
    except ValueError:
        return None
    if partitions <= 0:
        return None
    oldest = None
    for p in range(partitions):
        if fields.get(f"h:{p}", "") != history:
            return None
        lsn = fields.get(str(p))
        if lsn is None:
            return None
        try:
            v = int(lsn)
        except ValueError:
            return None
        oldest = v if oldest is None else min(oldest, v)
    return oldest


class _Script:
    def __init__(self, redis, source):
        self.redis = redis
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()

    def __call__(self, keys, args):
        from redis.exceptions import NoScriptError
        try:
            return self.redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.redis.script_load(self.source)
            return self.redis.evalsha(self.sha, len(keys), *keys, *args)


class Reader:
    """One region's Redis, read through Lethe's scripts.

    scripts_dir: the directory holding Lethe's fill.lua, invalidate.lua and confirm.lua (ship them with
    the application; they are part of the contract). fence_ttl_ms: Lethe's fence-ttl (60 s by
    default); a load that took longer is never filled. applied_group: the region's consumer group
    (<apply.group-prefix><region>), needed for reads with a token."""

    def __init__(self, redis, scripts_dir, fence_ttl_ms=60_000, applied_group=None):
        self.redis = redis
        self.fence_ttl_ms = fence_ttl_ms
        self.applied_key = APPLIED_LSN_PREFIX + applied_group if applied_group else None

        def load(name):
            with open(os.path.join(scripts_dir, name), encoding="utf-8") as f:
                return _Script(redis, f.read())
        self.fill_script = load("fill.lua")
        self.invalidate_script = load("invalidate.lua")
        self.confirm_script = load("confirm.lua")

    def namespace(self, name, ttl_ms=0, negative_ttl_ms=0, holds=None):
        """holds: what this reader's lethe.yml says the namespace's entries hold and under which keys, the list
        NamespaceConfig.readerHolds() gives, templates and patterns sorted (e.g. ["table:public.products",
        "version:lsn", "mode:DELETE", "key/v2:product:{id}"]); fills are then refused while the region's
        Redis records other holds. None: not checked (see docs/cache-client.md, "Declaring what a namespace holds")."""
        return Namespace(self, name, ttl_ms, negative_ttl_ms, holds)


class Namespace:
    """Reads of one namespace: hit, or miss, load and fenced fill. A refused fill is normal: the
    loaded value is returned, just not cached."""

    def __init__(self, reader, name, ttl_ms, negative_ttl_ms, holds=None):
        self.reader = reader
        self.name = name
        self.ttl_ms = ttl_ms
        self.negative_ttl_ms = negative_ttl_ms
        self.holds = None if holds is None else render_holds(holds)
        self.refused_holds = 0  # fills refused or undone because the region records other holds

    def get(self, key, loader, token=None):
        """The value (bytes) of `key`, or None when the loader found nothing.

        loader(key) -> Loaded. With a ReadToken, served from the cache only when the region's applied
        watermark of the token's history is at or past it; otherwise loaded (the loader must then
        read the primary) and filled under the usual rules."""
        r = self.reader.redis
        # One connection runs a pipeline in order; a Cluster's nodes do not keep the order of commands sent to
        # different ones, so there the watermark is read before the pipeline and the holds after it (as cache-client).
        ordered = not _is_cluster(r)
        pipe = r.pipeline(transaction=False)
        if token is not None:
            if self.reader.applied_key is None:
                raise ValueError("a read with a token needs Reader(..., applied_group=<the region's consumer group>)")
            if ordered:
                pipe.hgetall(self.reader.applied_key)  # before the entry: the entry then reflects what it covers
            else:
                applied = r.hgetall(self.reader.applied_key)
        pipe.type(key)
        pipe.hmget(key, "v", "d", "s", "nf")
        pipe.hget(fence_key(key), "n")
        pipe.get(epoch_key(self.name))
        if self.holds is not None and ordered:
            pipe.get(holds_key(self.name))  # after the entry and the epoch, as cache-client reads them
        replies = pipe.execute(raise_on_error=False)
        if self.holds is not None and not ordered:
            replies.append(r.get(holds_key(self.name)))
        if token is not None:
            raw = replies.pop(0) if ordered else applied
            covered = False
            if isinstance(raw, dict):
                fields = {_text(k): _text(v) for k, v in raw.items()}
                mark = applied_watermark(fields, token.history)
                covered = mark is not None and mark >= token.lsn
        else:
            covered = True
        recorded = replies.pop() if self.holds is not None else None
        kind, entry, n0, epoch = replies
        n0 = _text(n0) if n0 is not None else None
        epoch = _text(epoch) if epoch is not None else "0"
        present = _text(kind) == "hash" and isinstance(entry, list) and (entry[0] is not None or entry[1] is not None)
        # an entry under other holds than this reader's is not served: loaded, and its fill refused
        if present and not self._holds_differ(recorded):
            soft = _text(entry[2]) if entry[2] is not None else None
            fresh = soft is None or time.time() * 1000 < int(soft)
            if covered and fresh:
                return None if entry[3] is not None else (entry[1] or b"")
        missed_at = time.monotonic()
        loaded = loader(key)
        if loaded is None:
            raise ValueError(f"loader returned None for {key}; return Loaded.not_found() instead")
        self._fill(key, loaded, n0, epoch, missed_at, replace=present, recorded=recorded)
        return loaded.value if loaded.found else None

    def _holds_differ(self, recorded):
        """True when this reader declared its holds and the region's Redis records others (none recorded: allowed,
        readers roll out before the region)."""
        return self.holds is not None and recorded is not None and _text(recorded) != self.holds

    def _other_holds(self, recorded):
        """As _holds_differ, counting a refused fill."""
        if not self._holds_differ(recorded):
            return False
        self.refused_holds += 1
        return True

    def _fill(self, key, loaded, n0, epoch_at_miss, missed_at, replace=False, recorded=None):
        """fill.lua, then the epoch check; replace: the read saw an entry it did not serve (soft-expired, or a token it
        did not cover), so this fill is a revalidation of it (fill.lua's ARGV[6]). recorded: the holds the miss read."""
        if not loaded.found and self.negative_ttl_ms == 0:
            return
        if self._other_holds(recorded):
            return  # entries the region's invalidations would not reach, or judge by other rules: not written
        if (time.monotonic() - missed_at) * 1000 >= self.reader.fence_ttl_ms:
            return  # a fence raised during the load may have expired already: nothing would refuse the old value
        ttl = self.ttl_ms if loaded.found else self.negative_ttl_ms
        leased = ttl == 0 or ttl > FILL_LEASE_MS
        payload = loaded.value if loaded.found else b""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        version = loaded.version or "0"
        fence = fence_key(key)
        try:
            result = self.reader.fill_script([key, fence], [version, n0 or "", payload,
                                                            str(FILL_LEASE_MS if leased else ttl), "", "1" if replace else "0",
                                                            "0" if loaded.found else "1"])
        except Exception:  # the reply was lost: the fill may have landed, so it is checked like an accepted one
            result = FILL_ACCEPTED
        if result != FILL_ACCEPTED:
            return
        try:
            if self.holds is None:
                confirmed = _text(self.reader.redis.get(epoch_key(self.name)) or b"0") == epoch_at_miss
            else:
                # the epoch, then the holds: a region that moved since the miss wrote its holds before its epoch.
                # Two GETs in one pipeline, not an MGET: in a Redis Cluster the two keys are in different slots
                pipe = self.reader.redis.pipeline(transaction=False)
                pipe.get(epoch_key(self.name))
                pipe.get(holds_key(self.name))
                epoch_now, recorded_now = pipe.execute()
                confirmed = _text(epoch_now or b"0") == epoch_at_miss and not self._other_holds(recorded_now)
        except Exception:
            confirmed = False  # an epoch that cannot be read confirms nothing
        if not confirmed:
            # a pattern or namespace-wide invalidation started since the miss; its scan may have
            # passed this key before the fill landed: undo it at the fill's own version
            self.reader.invalidate_script([key, fence], [version, str(self.reader.fence_ttl_ms),
                                                         str(random.randint(1, 1 << 40))])
            return
        if leased:
            self.reader.confirm_script([key], ["h", payload, version, str(ttl)])


def _is_cluster(r):
    """True for redis-py's RedisCluster client (its pipelines send to each node apart)."""
    return hasattr(r, "get_node_from_key")


def _text(b):
    return b.decode("utf-8") if isinstance(b, (bytes, bytearray)) else str(b)
