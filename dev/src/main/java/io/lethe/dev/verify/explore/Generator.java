package io.lethe.dev.verify.explore;

import io.lethe.dev.verify.explore.Program.Column;
import io.lethe.dev.verify.explore.Program.Namespace;
import io.lethe.dev.verify.explore.Program.Readers;
import io.lethe.dev.verify.explore.Program.Table;
import io.lethe.dev.verify.explore.Program.Template;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Turns a seed and a profile into a {@link Program}. Everything it draws comes from one
 * {@link SplittableRandom}, so the same seed, profile and region count give the same program,
 * byte for byte; only its interleaving with the real pipeline differs from run to run.
 *
 * <p>It keeps a model of each table (which rows exist, their partitions, the table's replica
 * identity, publication membership, extra columns) so that every statement it writes is valid
 * when the program runs whole. A shrunk program may break that; the run then counts the step as
 * invalid and the shrinker rejects the candidate.
 */
final class Generator {
    /** rids stay below this: the key types that wrap (int2, time) are injective up to here. */
    static final int MAX_RID = 29_000;
    private static final int PARTITIONS = 3;
    private static final List<String> FENCE_TTLS = List.of("2s", "5s", "60s");
    /**
     * An upsert namespace's fence-ttl must exceed source.heartbeat-interval + apply.command-timeout +
     * 1s (issue 34: a region writes an upsert only while it is younger than fence-ttl minus that);
     * the shortest here leaves 3s, so a lagging run also turns upserts into deletes.
     */
    private static final List<String> UPSERT_FENCE_TTLS = List.of("10s", "20s", "60s");

    private final SplittableRandom random;
    private final Profile profile;
    private final int regions;
    private final List<PgType> types;
    private final List<State> states = new ArrayList<>();
    private final List<Namespace> namespaces = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private int savepoints;
    private int partitionExpansions;
    private final Map<String, Boolean> savedRegions = new HashMap<>();
    /** The labels of explore_mood as the program's renames leave them. */
    private final List<String> moods = new ArrayList<>(TypeCatalog.moods());
    private int moodRenames;
    /** The configuration as the program's CONFIG steps leave it: version sources by namespace, the last region's subscriptions. */
    private final Map<String, String> versions = new HashMap<>();
    private final List<String> subscribed = new ArrayList<>();
    /** Rows read before a value-changing DDL (the first half of them kept from later writes). */
    private static final int WARM_ROWS = 6;

    private Generator(long seed, Profile profile, int regions) {
        this.random = new SplittableRandom(seed);
        this.profile = profile;
        this.regions = regions;
        this.types = TypeCatalog.select(profile.types());
    }

    static Program generate(long seed, Profile profile, int regions) {
        return new Generator(seed, profile, regions).program(seed);
    }

    private Program program(long seed) {
        int tables = 1 + random.nextInt(profile.maxTables());
        for (int i = 0; i < tables; i++) {
            states.add(new State(table(i)));
        }
        for (State s : states) {
            namespacesOf(s);
        }
        for (State s : states) {
            boolean derived = namespaces.stream().anyMatch(n -> n.table().equals(s.table.qualified())
                    && n.keys().stream().anyMatch(k -> k.tag().equals("d")));
            s.full = derived || random.nextInt(10) < 3;
            s.table = new Table(s.table.schema(), s.table.name(), s.table.columns(), s.table.partitioned(), s.full, s.table.rows(),
                    s.table.groups());
            s.initial = s.table;
        }
        List<String> partial = new ArrayList<>();
        if (profile.has(Feature.SUBSCRIPTIONS) && regions > 1 && namespaces.size() > 1 && random.nextBoolean()) {
            for (Namespace n : namespaces) {
                if (random.nextBoolean()) {
                    partial.add(n.name());
                }
            }
            if (partial.isEmpty() || partial.size() == namespaces.size()) {
                partial = List.of(namespaces.get(0).name());
            }
        }
        Readers readers = new Readers(true, profile.has(Feature.SLOW_LOAD) ? 10 + random.nextInt(20) : 0, 4000,
                profile.has(Feature.NEAR_CACHE) && random.nextBoolean(), profile.has(Feature.TOKEN) && random.nextBoolean(),
                profile.has(Feature.CONFIG_CHANGE) && random.nextInt(4) != 0);
        namespaces.forEach(n -> versions.put(n.name(), n.version()));
        subscribed.addAll(partial);
        while (steps.size() < profile.steps()) {
            step();
        }
        List<Table> tableDefs = states.stream().map(s -> s.initial).toList();
        return new Program(seed, profile.switches(), regions, tableDefs, namespaces, partial, readers, steps);
    }

    // ---------------------------------------------------------------- schema

    private Table table(int index) {
        String schema = profile.has(Feature.NON_PUBLIC_SCHEMA) && random.nextBoolean() ? "s" + index + "_app" : "public";
        List<Column> columns = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        if (profile.has(Feature.NON_ID_KEY) && random.nextInt(10) < 8) {
            PgType t = pick(types.stream().filter(x -> x.btree() && x.injective() && x.rendered()).toList());
            columns.add(new Column(unique(names, "k_" + t.id()), t.id(), "key"));
        } else {
            columns.add(new Column(unique(names, "id"), "int4", "key"));
        }
        if (profile.has(Feature.COMPOSITE_KEY) && random.nextBoolean()) {
            int more = 1 + random.nextInt(2);
            for (int i = 0; i < more; i++) {
                PgType t = pick(types.stream().filter(x -> x.btree() && x.rendered()).toList());
                columns.add(new Column(unique(names, "k_" + t.id()), t.id(), "key"));
            }
        }
        boolean partitioned = profile.has(Feature.PARTITIONED) && random.nextInt(100) < 35;
        if (partitioned) {
            columns.add(new Column(unique(names, "pt"), "int4", "part"));
        }
        columns.add(new Column(unique(names, "rid"), "int4", "rid"));
        if (profile.has(Feature.DERIVED_KEY)) {
            int groups = 1 + random.nextInt(2);
            for (int i = 0; i < groups; i++) {
                PgType t = pick(types.stream().filter(PgType::rendered).toList());
                columns.add(new Column(unique(names, "g_" + t.id()), t.id(), "group"));
            }
        }
        columns.add(new Column(unique(names, "val"), "text", "val"));
        columns.add(new Column(unique(names, "n"), "int8", "n"));
        columns.add(new Column(unique(names, "ver"), "int8", "ver"));
        columns.add(new Column(unique(names, "x0"), "int4", "extra"));
        int rows = 10 + random.nextInt(profile.maxTxRows() >= 10_000 ? 400 : 120);
        return new Table(schema, "t" + index, columns, partitioned, false, rows, 3 + random.nextInt(10));
    }

    private static String unique(Set<String> names, String name) {
        String n = name;
        for (int i = 2; !names.add(n); i++) {
            n = name + i;
        }
        return n;
    }

    private void namespacesOf(State s) {
        int count = profile.has(Feature.TWO_NAMESPACES_PER_TABLE) && random.nextInt(10) < 4 ? 2 : 1;
        for (int i = 0; i < count; i++) {
            String name = "n" + namespaces.size();
            boolean upsert = profile.has(Feature.UPSERT) && random.nextInt(10) < 3;
            String version = profile.has(Feature.COLUMN_VERSION) && random.nextInt(10) < 4 ? "column:ver" : "lsn";
            List<Template> keys = new ArrayList<>();
            List<String> keyColumns = new ArrayList<>(s.table.keyColumns().stream().map(Column::name).toList());
            if (s.table.partitioned() && random.nextBoolean()) {
                keyColumns.remove("pt"); // the first key column alone names the row
            }
            keys.add(new Template("r", keyColumns));
            List<Column> plainKeys = s.table.withRole("key");
            if (!upsert && plainKeys.size() >= 2 && random.nextBoolean()) {
                keys.add(new Template("p", List.of(plainKeys.get(1 + random.nextInt(plainKeys.size() - 1)).name())));
            }
            List<Column> groups = s.table.withRole("group");
            if (!upsert && !groups.isEmpty() && random.nextInt(10) < 7) {
                List<String> cols = new ArrayList<>();
                cols.add(groups.get(random.nextInt(groups.size())).name());
                if (groups.size() > 1 && random.nextBoolean()) {
                    cols.add(groups.stream().map(Column::name).filter(c -> !cols.contains(c)).findFirst().orElseThrow());
                } else if (random.nextInt(4) == 0) {
                    cols.add(plainKeys.get(0).name());
                }
                keys.add(new Template("d", cols));
            }
            List<String> patterns = new ArrayList<>();
            if (profile.has(Feature.PATTERN) && random.nextInt(10) < 4) {
                patterns.add(name + ":list:*");
            }
            if (profile.has(Feature.SHARED_PATTERN) && random.nextInt(10) < 4) {
                patterns.add("shared:list:*");
            }
            long negative = profile.has(Feature.NEGATIVE) && random.nextInt(10) < 6 ? 30_000 : 0;
            namespaces.add(new Namespace(name, s.table.qualified(), keys, patterns, version, upsert ? "upsert" : "delete",
                    pick(upsert ? UPSERT_FENCE_TTLS : FENCE_TTLS), negative));
        }
    }

    // ---------------------------------------------------------------- steps

    private void step() {
        List<Runnable> choices = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        option(choices, weights, 10, true, this::smallTransaction);
        option(choices, weights, 5, true, this::read);
        option(choices, weights, 2, true, this::pause);
        option(choices, weights, 1.2, profile.has(Feature.BIG_TRANSACTION), this::bigTransaction);
        option(choices, weights, 0.3, profile.has(Feature.TRUNCATE), this::truncate);
        ddlOptions(choices, weights);
        option(choices, weights, 0.6, profile.has(Feature.RESTART_STAGE), () -> stage(Step.Kind.RESTART));
        option(choices, weights, 0.6, profile.has(Feature.KILL), () -> stage(Step.Kind.KILL));
        option(choices, weights, 0.5, profile.has(Feature.REDIS_RDB), this::redisRdb);
        option(choices, weights, 0.4, profile.has(Feature.REDIS_AOF),
                () -> steps.add(Step.fault(Step.Kind.REDIS_AOF, region(), null)));
        option(choices, weights, 0.25, profile.has(Feature.BROKER_RESTART),
                () -> steps.add(Step.fault(Step.Kind.BROKER, null, Integer.toString(1000 + random.nextInt(4000)))));
        option(choices, weights, 0.25, profile.has(Feature.PARTITION_EXPANSION) && partitionExpansions < 2, this::partitions);
        // last, so that a profile without it draws what it drew before it existed
        option(choices, weights, 1.5, profile.has(Feature.STAGE_ORDER), this::stageOrder);
        option(choices, weights, 2.5, profile.has(Feature.CONFIG_CHANGE), this::configChange);
        draw(choices, weights);
    }

    /** The DDL features' options (each feature's generator), in the order {@link #step} always drew them. */
    private void ddlOptions(List<Runnable> choices, List<Double> weights) {
        option(choices, weights, 0.5, profile.has(Feature.ADD_COLUMN), this::addColumn);
        option(choices, weights, 0.4, profile.has(Feature.DROP_COLUMN), this::dropColumn);
        option(choices, weights, 0.4, profile.has(Feature.RENAME_COLUMN), this::renameColumn);
        option(choices, weights, 0.4, profile.has(Feature.RETYPE_COLUMN), this::retypeColumn);
        option(choices, weights, 0.3, profile.has(Feature.RETYPE_KEY_COLUMN), this::retypeKeyColumn);
        option(choices, weights, 0.3, profile.has(Feature.REWRITE_VALUES), this::rewriteValues);
        option(choices, weights, 0.3, profile.has(Feature.ENUM_RENAME) && states.stream().anyMatch(s -> s.table.columns().stream()
                .anyMatch(c -> c.type().equals("enum"))), this::renameMood);
        option(choices, weights, 0.4, profile.has(Feature.REPLICA_IDENTITY), this::replicaIdentity);
        option(choices, weights, 0.3, profile.has(Feature.PUBLICATION), this::publication);
        option(choices, weights, 0.3, profile.has(Feature.TABLE_SWAP), this::swap);
        option(choices, weights, 0.5, profile.has(Feature.PARTITION_DETACH) && states.stream().anyMatch(s -> s.table.partitioned()),
                this::detachOrAttach);
    }

    private void partitions() {
        partitionExpansions++;
        steps.add(Step.fault(Step.Kind.PARTITIONS, null, Integer.toString(1 + random.nextInt(2))));
    }

    private void draw(List<Runnable> choices, List<Double> weights) {
        double total = weights.stream().mapToDouble(Double::doubleValue).sum();
        double x = random.nextDouble() * total;
        for (int i = 0; i < choices.size(); i++) {
            x -= weights.get(i);
            if (x < 0 || i == choices.size() - 1) {
                choices.get(i).run();
                return;
            }
        }
    }

    private static void option(List<Runnable> choices, List<Double> weights, double weight, boolean enabled, Runnable r) {
        if (enabled) {
            choices.add(r);
            weights.add(weight);
        }
    }

    private String region() {
        return Integer.toString(random.nextInt(regions));
    }

    private void pause() {
        steps.add(Step.fault(Step.Kind.PAUSE, null, Integer.toString(100 + random.nextInt(1500))));
    }

    private void read() {
        Namespace ns = pick(namespaces);
        State s = state(ns.table());
        List<String> tags = new ArrayList<>(ns.keys().stream().map(Template::tag).toList());
        if (!ns.patterns().isEmpty()) {
            tags.add("list");
        }
        String tag = pick(tags);
        List<Integer> rids = new ArrayList<>();
        int n = 1 + random.nextInt(5);
        for (int i = 0; i < n; i++) {
            if (s.live.isEmpty() || random.nextInt(5) == 0) {
                rids.add(1 + random.nextInt(Math.max(1, s.nextRid)));
            } else {
                rids.add(s.randomLive());
            }
        }
        steps.add(Step.read(ns.name(), tag, random.nextInt(3) == 0 ? "*" : region(), rids));
    }

    private void smallTransaction() {
        State s = pick(states);
        List<String> sql = new ArrayList<>();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            if (profile.has(Feature.SAVEPOINT) && random.nextInt(6) == 0) {
                String sp = "sp" + (++savepoints);
                sql.add("SAVEPOINT " + sp);
                boolean keep = random.nextBoolean();
                int inner = 1 + random.nextInt(2);
                for (int j = 0; j < inner; j++) {
                    sql.add(rowStatement(s, keep));
                }
                sql.add(keep ? "RELEASE SAVEPOINT " + sp : "ROLLBACK TO SAVEPOINT " + sp);
            } else {
                sql.add(rowStatement(s, true));
            }
        }
        steps.add(Step.tx(s.table.qualified(), sql));
    }

    /** One statement on one or a few rows; applied to the model only when {@code apply}. */
    private String rowStatement(State s, boolean apply) {
        int choice = random.nextInt(100);
        if (s.live.isEmpty() || choice < 25 || !s.writable()) {
            return insert(s, apply);
        }
        int rid = s.randomLive();
        if (choice < 37 && profile.has(Feature.DELETE)) {
            if (apply) {
                s.kill(rid);
            }
            return "DELETE FROM " + s.table.qualified() + " WHERE rid = " + rid;
        }
        if (choice < 47 && profile.has(Feature.KEY_CHANGE)) {
            if (s.table.partitioned() && random.nextBoolean() && s.attached.size() > 1) {
                int to = pick(s.attached.stream().filter(p -> p != s.partitionOf(rid)).toList());
                if (apply) {
                    s.partition.put(rid, to);
                }
                return "UPDATE " + s.table.qualified() + " SET pt = " + to + ", ver = ver + 1 WHERE rid = " + rid;
            }
            if (s.nextRid < MAX_RID) {
                int to = s.nextRid++;
                StringBuilder set = new StringBuilder();
                for (Column c : s.table.withRole("key")) {
                    set.append(Program.quote(c.name())).append(" = ").append(c.pgType().valueOf(Integer.toString(to))).append(", ");
                }
                if (apply) {
                    int pt = s.partitionOf(rid);
                    s.kill(rid);
                    s.live.set(to);
                    s.partition.put(to, pt);
                }
                return "UPDATE " + s.table.qualified() + " SET " + set + "rid = " + to + ", ver = ver + 1 WHERE rid = " + rid;
            }
        }
        if (choice < 60 && profile.has(Feature.GROUP_CHANGE) && !s.table.withRole("group").isEmpty()) {
            Column g = pick(s.table.withRole("group"));
            String value = random.nextInt(5) == 0 ? "NULL" : g.pgType().valueOf(Integer.toString(random.nextInt(s.table.groups())));
            return "UPDATE " + s.table.qualified() + " SET " + Program.quote(g.name()) + " = " + value + ", ver = ver + 1 WHERE rid = "
                    + rid;
        }
        int stamp = steps.size();
        return "UPDATE " + s.table.qualified() + " SET val = 'v" + rid + "." + stamp + "', n = n + " + (1 + random.nextInt(9))
                + ", ver = ver + 1 WHERE rid = " + rid;
    }

    private String insert(State s, boolean apply) {
        List<Integer> rids = new ArrayList<>();
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            int dead = s.randomDead();
            if (dead > 0 && random.nextInt(4) == 0 && !rids.contains(dead)) {
                rids.add(dead); // the same key again: natural keys come back
            } else if (s.nextRid < MAX_RID) {
                rids.add(s.nextRid++);
            }
        }
        if (rids.isEmpty()) {
            return "SELECT 1";
        }
        if (apply) {
            rids.forEach(r -> s.born(r, s.attached.get(r % s.attached.size())));
        }
        return insertSql(s.table, "unnest(ARRAY" + rids + "::int[])", s.attached, steps.size());
    }

    /** INSERT of the rows numbered by {@code source} (a set-returning SQL expression of i), values stamped with {@code stamp}. */
    static String insertSql(Table t, String source, List<Integer> partitions, int stamp) {
        List<String> names = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (Column c : t.columns()) {
            String v = switch (c.role()) {
                case "key" -> c.pgType().valueOf("i");
                case "part" -> "(ARRAY" + partitions + "::int[])[1 + i % " + partitions.size() + "]";
                case "rid" -> "i";
                case "group" -> groupValue(c, "i", stamp, t.groups());
                case "val" -> "'v' || i || '." + stamp + "'";
                case "n" -> "(i * 13 + " + stamp + ") % 1000";
                case "ver" -> "1";
                default -> null;
            };
            if (v != null) {
                names.add(Program.quote(c.name()));
                values.add(v);
            }
        }
        return "INSERT INTO " + t.qualified() + " (" + String.join(", ", names) + ") SELECT " + String.join(", ", values)
                + " FROM " + source + " AS s(i)";
    }

    static String groupValue(Column c, String i, int salt, int groups) {
        String g = "((" + i + ") * 7 + " + salt + ")";
        return "CASE WHEN " + g + " % 13 = 0 THEN NULL ELSE " + c.pgType().valueOf(g + " % " + groups) + " END";
    }

    private void bigTransaction() {
        State s = pick(states);
        int size = (int) Math
                .round(Math.exp(Math.log(100) + random.nextDouble() * (Math.log(Math.max(101, profile.maxTxRows())) - Math.log(100))));
        List<String> sql = new ArrayList<>();
        int stamp = steps.size();
        int kind = random.nextInt(4);
        if (kind == 0 || s.live.cardinality() < 50) {
            int from = s.nextRid;
            int to = Math.min(MAX_RID - 1, from + size - 1);
            if (to >= from) {
                s.nextRid = to + 1;
                for (int r = from; r <= to; r++) {
                    s.born(r, s.attached.get(r % s.attached.size()));
                }
                sql.add(insertSql(s.table, "generate_series(" + from + ", " + to + ")", s.attached, stamp));
            }
        } else {
            int[] range = s.range(size, random);
            if (kind == 1 && profile.has(Feature.DELETE)) {
                for (int r = range[0]; r <= range[1]; r++) {
                    if (s.live.get(r) && !s.kept.get(r)) {
                        s.kill(r);
                    }
                }
                sql.add("DELETE FROM " + s.table.qualified() + " WHERE rid BETWEEN " + range[0] + " AND " + range[1] + s.notKept());
            } else {
                String set = "val = 'v' || rid || '." + stamp + "', n = n + 1, ver = ver + 1";
                List<Column> groups = s.table.withRole("group");
                if (!groups.isEmpty() && profile.has(Feature.GROUP_CHANGE) && random.nextBoolean()) {
                    Column g = pick(groups);
                    set += ", " + Program.quote(g.name()) + " = " + groupValue(g, "rid", stamp, s.table.groups());
                }
                sql.add("UPDATE " + s.table.qualified() + " SET " + set + " WHERE rid BETWEEN " + range[0] + " AND " + range[1]
                        + s.notKept());
                if (kind == 3 && s.nextRid + size / 4 < MAX_RID) {
                    int from = s.nextRid;
                    int to = from + Math.max(1, size / 4) - 1;
                    s.nextRid = to + 1;
                    for (int r = from; r <= to; r++) {
                        s.born(r, s.attached.get(r % s.attached.size()));
                    }
                    sql.add(insertSql(s.table, "generate_series(" + from + ", " + to + ")", s.attached, stamp));
                }
            }
        }
        if (sql.isEmpty()) {
            smallTransaction();
            return;
        }
        steps.add(Step.tx(s.table.qualified(), sql));
    }

    private void truncate() {
        State s = pick(states);
        for (int r = s.live.nextSetBit(0); r >= 0; r = s.live.nextSetBit(r + 1)) {
            s.dead.set(r);
        }
        s.live.clear();
        steps.add(Step.tx(s.table.qualified(), List.of("TRUNCATE " + s.table.qualified())));
    }

    // ---------------------------------------------------------------- DDL

    private static final List<String[]> EXTRA_TYPES = List.of(new String[] {"int4", "7"}, new String[] {"text", "'x'"},
            new String[] {"timestamptz", "now()"}, new String[] {"jsonb", "'{}'"});

    private void addColumn() {
        State s = pick(states);
        String[] type = pick(EXTRA_TYPES);
        String name = oddName("x" + (++s.extraCounter));
        s.extras.put(name, type[0]);
        steps.add(Step.ddl(Feature.ADD_COLUMN, s.table.qualified(),
                List.of("ALTER TABLE " + s.table.qualified() + " ADD COLUMN " + quoted(name) + " " + type[0] + " DEFAULT " + type[1])));
    }

    private void dropColumn() {
        State s = pick(states);
        if (s.extras.isEmpty()) {
            addColumn();
            return;
        }
        String name = pick(List.copyOf(s.extras.keySet()));
        s.extras.remove(name);
        steps.add(
                Step.ddl(Feature.DROP_COLUMN, s.table.qualified(),
                        List.of("ALTER TABLE " + s.table.qualified() + " DROP COLUMN " + quoted(name))));
    }

    private void renameColumn() {
        State s = pick(states);
        if (s.extras.isEmpty()) {
            addColumn();
            return;
        }
        String name = pick(List.copyOf(s.extras.keySet()));
        String to = oddName("x" + (++s.extraCounter) + "_renamed");
        s.extras.put(to, s.extras.remove(name));
        steps.add(Step.ddl(Feature.RENAME_COLUMN, s.table.qualified(),
                List.of("ALTER TABLE " + s.table.qualified() + " RENAME COLUMN " + quoted(name) + " TO " + quoted(to))));
    }

    private void retypeColumn() {
        State s = pick(states);
        if (s.extras.isEmpty()) {
            addColumn();
            return;
        }
        String name = pick(List.copyOf(s.extras.keySet()));
        String to = switch (s.extras.get(name)) {
            case "int4" -> "int8";
            case "int8" -> "numeric";
            case "timestamptz" -> "timestamp";
            default -> "text";
        };
        s.extras.put(name, to);
        steps.add(
                Step.ddl(Feature.RETYPE_COLUMN, s.table.qualified(), List.of("ALTER TABLE " + s.table.qualified() + " ALTER COLUMN "
                        + quoted(name) + " TYPE " + to + " USING " + quoted(name) + "::" + to)));
    }

    /**
     * A group or key column becomes {@code text}, {@code USING col::text}: every key keeps its text,
     * and later writes of the original type's values are cast to the same text on assignment.
     */
    private void retypeKeyColumn() {
        State s = pick(states);
        List<Column> candidates = new ArrayList<>(s.table.withRole("group"));
        s.table.withRole("key").stream().filter(c -> random.nextInt(3) == 0).forEach(candidates::add);
        candidates.removeIf(c -> s.retyped.contains(c.name()) || c.type().equals("text"));
        if (candidates.isEmpty()) {
            retypeColumn();
            return;
        }
        Column c = pick(candidates);
        s.retyped.add(c.name());
        String q = Program.quote(c.name());
        steps.add(Step.ddl(Feature.RETYPE_KEY_COLUMN, s.table.qualified(),
                List.of("ALTER TABLE " + s.table.qualified() + " ALTER COLUMN " + q + " TYPE text USING " + q + "::text")));
    }

    /**
     * Every value of a column the readers cache ({@code n} or {@code val}) computed again by an
     * {@code ALTER COLUMN ... TYPE} to the type it has, {@code USING} an expression: the table is
     * rewritten and no row change is decoded, and the type reads as before.
     */
    private void rewriteValues() {
        State s = pick(states);
        List<Step> checks = warmAndKeep(s);
        String t = s.table.qualified();
        String sql = random.nextBoolean()
                ? "ALTER TABLE " + t + " ALTER COLUMN n TYPE int8 USING n + 1"
                : "ALTER TABLE " + t + " ALTER COLUMN val TYPE text USING val || '~'";
        steps.add(Step.ddl(Feature.REWRITE_VALUES, t, List.of(sql)));
        steps.addAll(checks);
    }

    /**
     * A label of {@code explore_mood} renamed, or two labels' names swapped (three renames in one
     * transaction): every row holding it reads another value, and every key rendered from it is
     * another key, without a row change.
     */
    private void renameMood() {
        State s = states.stream().filter(x -> x.table.columns().stream().anyMatch(c -> c.type().equals("enum"))).findFirst().orElseThrow();
        List<Step> checks = warmAndKeep(s);
        List<String> sql = new ArrayList<>();
        int a = random.nextInt(moods.size());
        String was = moods.get(a);
        if (random.nextBoolean()) {
            String to = oddName("m" + a + " r" + (++moodRenames));
            sql.add(renameMood(was, to));
            moods.set(a, to);
        } else {
            int b = (a + 1 + random.nextInt(moods.size() - 1)) % moods.size();
            String other = moods.get(b);
            String tmp = oddName("swap " + (++moodRenames));
            sql.add(renameMood(was, tmp));
            sql.add(renameMood(other, was));
            sql.add(renameMood(tmp, other));
            moods.set(a, other);
            moods.set(b, was);
        }
        steps.add(Step.ddl(Feature.ENUM_RENAME, s.table.qualified(), sql));
        steps.addAll(checks);
    }

    /**
     * Before DDL that changes values (or the keys rendered from them) without a row change: every
     * key of a few live rows, in every template and pattern of the table's namespaces, read in every
     * region, so entries that only the DDL makes stale are cached when it runs; and those rows kept
     * from every later row statement of the program, so no later write invalidates them by chance
     * and the judge sees whether Lethe noticed the DDL itself. Returns the CHECK steps of the same
     * keys, to follow the DDL: they judge the keys once the DDL's effect must have reached every
     * region, before later DDL of the table (a column dropped or retyped, a volatile default) resets
     * its namespaces wholesale and heals them.
     */
    private List<Step> warmAndKeep(State s) {
        List<Integer> rids = new ArrayList<>();
        int want = Math.min(WARM_ROWS, s.live.cardinality());
        for (int tries = 0; rids.size() < want && tries < 4 * WARM_ROWS; tries++) {
            int rid = s.nth(s.live, random.nextInt(s.live.cardinality()));
            if (!rids.contains(rid)) {
                rids.add(rid);
            }
        }
        List<Step> checks = new ArrayList<>();
        if (rids.isEmpty()) {
            return checks;
        }
        rids.sort(null);
        for (Namespace ns : namespaces) {
            if (!ns.table().equals(s.table.qualified())) {
                continue;
            }
            for (Template k : ns.keys()) {
                steps.add(Step.read(ns.name(), k.tag(), "*", rids));
                checks.add(Step.check(ns.name(), k.tag(), rids));
            }
            if (!ns.patterns().isEmpty()) {
                steps.add(Step.read(ns.name(), "list", "*", rids));
                checks.add(Step.check(ns.name(), "list", rids));
            }
        }
        // rows a later write touches are refreshed by it: keep about half of them from every later write
        rids.subList(0, (rids.size() + 1) / 2).forEach(s.kept::set);
        return checks;
    }

    private static String renameMood(String from, String to) {
        return "ALTER TYPE explore_mood RENAME VALUE " + literal(from) + " TO " + literal(to);
    }

    /** Odd forms of a name ({@link Feature#ODD_NAMES}): each keeps {@code base}, so names stay distinct. */
    private static final List<String> ODD = List.of("%s with space", "%s\"quote\"", "%s.dot", "Upper%s", "%s\u00e9t\u00e9\u2603", "%s'tick",
            "%s\u001d\u001e\u001fsep", "%s\u001besc", "%s\\back");

    /** {@code base}, or an odd form of it when {@link Feature#ODD_NAMES} is drawn (no random draw otherwise). */
    private String oddName(String base) {
        return profile.has(Feature.ODD_NAMES) && random.nextBoolean() ? pick(ODD).formatted(base) : base;
    }

    /** A quoted identifier: any name but NUL. */
    static String quoted(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** A string literal, with standard_conforming_strings on. */
    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private void replicaIdentity() {
        State s = pick(states);
        s.full = !s.full;
        List<String> sql = new ArrayList<>();
        for (String t : s.relations()) {
            sql.add("ALTER TABLE " + t + " REPLICA IDENTITY " + (s.full ? "FULL" : "DEFAULT"));
        }
        steps.add(Step.ddl(Feature.REPLICA_IDENTITY, s.table.qualified(), sql));
    }

    private void publication() {
        State s = pick(states);
        s.published = !s.published;
        steps.add(Step.ddl(Feature.PUBLICATION, s.table.qualified(), List.of("ALTER PUBLICATION ${publication} "
                + (s.published ? "ADD" : "DROP") + " TABLE " + s.table.qualified())));
    }

    private void swap() {
        List<State> plain = states.stream().filter(x -> !x.table.partitioned()).toList();
        if (plain.isEmpty()) {
            publication();
            return;
        }
        State s = pick(plain);
        String t = s.table.qualified();
        String schema = s.table.schema();
        String name = s.table.name();
        List<String> sql = new ArrayList<>(List.of(
                "CREATE TABLE " + schema + "." + name + "__new (LIKE " + t + " INCLUDING ALL)",
                "INSERT INTO " + schema + "." + name + "__new SELECT * FROM " + t,
                "ALTER TABLE " + t + " RENAME TO " + name + "__old",
                "ALTER TABLE " + schema + "." + name + "__new RENAME TO " + name,
                "DROP TABLE " + schema + "." + name + "__old"));
        if (s.full) {
            sql.add("ALTER TABLE " + t + " REPLICA IDENTITY FULL");
        }
        s.published = random.nextBoolean();
        if (s.published) {
            sql.add("ALTER PUBLICATION ${publication} ADD TABLE " + t);
        }
        steps.add(Step.ddl(Feature.TABLE_SWAP, t, sql));
    }

    private void detachOrAttach() {
        State s = pick(states.stream().filter(x -> x.table.partitioned()).toList());
        String t = s.table.qualified();
        if (s.detached >= 0) {
            int p = s.detached;
            s.detached = -1;
            s.attached.add(p);
            s.attached.sort(null);
            s.parked.stream().forEach(r -> s.live.set(r));
            s.parked.clear();
            steps.add(Step.ddl(Feature.PARTITION_DETACH, t, List.of("ALTER TABLE " + t + " ATTACH PARTITION " + t + "_p" + p
                    + " FOR VALUES IN (" + p + ")")));
        } else {
            int p = pick(s.attached);
            s.detached = p;
            s.attached.remove(Integer.valueOf(p));
            for (int r = s.live.nextSetBit(0); r >= 0; r = s.live.nextSetBit(r + 1)) {
                if (s.partitionOf(r) == p) {
                    s.parked.add(r);
                }
            }
            s.parked.forEach(s.live::clear);
            steps.add(Step.ddl(Feature.PARTITION_DETACH, t, List.of("ALTER TABLE " + t + " DETACH PARTITION " + t + "_p" + p)));
        }
    }

    // ---------------------------------------------------------------- faults

    private void stage(Step.Kind kind) {
        int which = random.nextInt(4);
        String stage = which == 0 ? "capture" : which == 1 ? "streams" : "region";
        steps.add(Step.fault(kind, stage.equals("region") ? region() : null, stage));
    }

    /**
     * STAGE_ORDER: two or more stages (capture, streams, region consumers), drawn, stopped one after
     * the other (a clean stop, or with the kill feature a kill -9 drawn for each), and started again in
     * a drawn order, half the time downstream first (a region consumer, then streams, then capture: each
     * starts while the stages upstream of it are still down). While some are down: writes, reads, the
     * DDL the profile's other features draw, at times a region's Redis restarted (from a snapshot taken
     * before the stops, or its AOF), a broker restart or partitions added, and drawn gaps between the
     * starts. The CHECKs a value-changing DDL brings follow the last start (nothing quiesces before).
     */
    private void stageOrder() {
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"capture", null});
        all.add(new String[] {"streams", null});
        for (int r = 0; r < regions; r++) {
            all.add(new String[] {"region", Integer.toString(r)});
        }
        shuffle(all);
        List<String[]> stopped = new ArrayList<>(all.subList(0, 2 + random.nextInt(all.size() - 1)));
        List<String[]> starts = new ArrayList<>(stopped);
        shuffle(starts);
        if (random.nextBoolean()) {
            starts.sort(java.util.Comparator.comparingInt(st -> st[0].equals("region") ? 0 : st[0].equals("streams") ? 1 : 2));
        }
        int k = stopped.size();
        // the slots where some stage is down: after each stop, and after each start but the last
        int slots = 2 * k - 1;
        Step redis = null;
        int redisSlot = random.nextInt(slots);
        boolean rdb = profile.has(Feature.REDIS_RDB);
        boolean aof = profile.has(Feature.REDIS_AOF);
        if ((rdb || aof) && random.nextInt(3) == 0) {
            List<String[]> down = stopped.stream().filter(st -> st[1] != null).toList();
            String r;
            if (down.isEmpty()) {
                r = region();
            } else {
                // while that region's consumer is down: a slot between its stop and its start
                String[] consumer = pick(down);
                r = consumer[1];
                int stoppedAt = stopped.indexOf(consumer);
                int startedAt = k + starts.indexOf(consumer); // the slot after its start, minus one
                redisSlot = stoppedAt + random.nextInt(startedAt - stoppedAt);
            }
            if (rdb && (!aof || random.nextBoolean())) {
                if (!Boolean.TRUE.equals(savedRegions.get(r))) {
                    steps.add(Step.fault(Step.Kind.REDIS_SAVE, r, null)); // older than what the stages miss
                }
                savedRegions.put(r, false);
                redis = Step.fault(Step.Kind.REDIS_RDB, r, null);
            } else {
                redis = Step.fault(Step.Kind.REDIS_AOF, r, null);
            }
        }
        int from = steps.size();
        int slot = 0;
        for (int i = 0; i < k; i++, slot++) {
            String[] st = stopped.get(i);
            steps.add(Step.stop(st[0], st[1], profile.has(Feature.KILL) && random.nextBoolean()));
            int n = i == k - 1 ? 1 + random.nextInt(3) : random.nextInt(2);
            for (int j = 0; j < n; j++) {
                whileDown();
            }
            if (slot == redisSlot && redis != null) {
                steps.add(redis);
            }
        }
        for (int i = 0; i < k; i++, slot++) {
            String[] st = starts.get(i);
            steps.add(Step.start(st[0], st[1]));
            if (i == k - 1) {
                break;
            }
            if (random.nextBoolean()) {
                steps.add(Step.fault(Step.Kind.PAUSE, null, Integer.toString(random.nextInt(3000))));
            }
            for (int j = random.nextInt(2); j > 0; j--) {
                whileDown();
            }
            if (slot == redisSlot && redis != null) {
                steps.add(redis);
            }
        }
        List<Step> checks = new ArrayList<>(steps.subList(from, steps.size()).stream().filter(x -> x.kind() == Step.Kind.CHECK).toList());
        if (!checks.isEmpty()) {
            List<Step> block = new ArrayList<>(
                    steps.subList(from, steps.size()).stream().filter(x -> x.kind() != Step.Kind.CHECK).toList());
            steps.subList(from, steps.size()).clear();
            steps.addAll(block);
            steps.addAll(checks);
        }
    }

    /**
     * CONFIG_CHANGE: the configuration changed across a restart of every stage, for one namespace: its
     * version source flipped ({@code lsn <-> column:ver}), or, when a region caches some namespaces only,
     * the namespace added to or removed from that region's subscriptions. Around it: the row keys of a
     * few rows read in every region (entries filled under the old configuration), and after it those
     * rows written (their invalidations under the new one) and CHECKed. An entry filled at an LSN that
     * survives the flip to column versions is never reached by a column version's invalidation again.
     * Sometimes the readers roll out last: readers on the old file read those rows once every region runs
     * the new one (fills at the old version source, refused where a region records other holds).
     */
    private void configChange() {
        Namespace ns = pick(namespaces);
        String change;
        List<String> others = namespaces.stream().map(Namespace::name).filter(n -> !subscribed.contains(n)).toList();
        if (!subscribed.isEmpty() && random.nextBoolean()) {
            boolean add = subscribed.size() == 1 || !others.isEmpty() && random.nextBoolean();
            String name = pick(add ? others : subscribed);
            ns = namespaces.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
            change = add ? "subscribe" : "unsubscribe";
            if (add) {
                subscribed.add(name);
            } else {
                subscribed.remove(name);
            }
        } else {
            String to = versions.get(ns.name()).equals("lsn") ? "column:ver" : "lsn";
            versions.put(ns.name(), to);
            change = Program.VERSION_CHANGE + to;
        }
        State s = state(ns.table());
        List<Integer> rids = new ArrayList<>();
        for (int i = 0; i < 3 && s.writable(); i++) {
            int rid = s.randomLive();
            if (!s.kept.get(rid) && !rids.contains(rid)) {
                rids.add(rid);
            }
        }
        if (!rids.isEmpty()) {
            steps.add(Step.read(ns.name(), "r", "*", rids));
        }
        // one change in three rolls the readers out last: readers on the old file fill after the regions moved
        steps.add(Step.config(ns.name(), change, !rids.isEmpty() && random.nextInt(3) == 0 ? rids : List.of()));
        if (!rids.isEmpty()) {
            steps.add(Step.tx(s.table.qualified(), List.of("UPDATE " + s.table.qualified() + " SET val = 'c' || rid || '." + steps.size()
                    + "', n = n + 1, ver = ver + 1 WHERE rid = ANY(ARRAY" + rids + "::int[])")));
            steps.add(Step.check(ns.name(), "r", rids));
        }
    }

    /** One step while some stage is down: a write, a read, DDL, a broker restart or partitions added. */
    private void whileDown() {
        List<Runnable> choices = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        option(choices, weights, 6, true, this::smallTransaction);
        option(choices, weights, 2, true, this::read);
        option(choices, weights, 0.8, profile.has(Feature.BIG_TRANSACTION), this::bigTransaction);
        option(choices, weights, 0.4, profile.has(Feature.TRUNCATE), this::truncate);
        ddlOptions(choices, weights);
        option(choices, weights, 0.3, profile.has(Feature.BROKER_RESTART),
                () -> steps.add(Step.fault(Step.Kind.BROKER, null, Integer.toString(1000 + random.nextInt(4000)))));
        option(choices, weights, 0.3, profile.has(Feature.PARTITION_EXPANSION) && partitionExpansions < 2, this::partitions);
        draw(choices, weights);
    }

    private <T> void shuffle(List<T> list) {
        for (int i = list.size() - 1; i > 0; i--) {
            java.util.Collections.swap(list, i, random.nextInt(i + 1));
        }
    }

    private void redisRdb() {
        String saved = savedRegions.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).findFirst().orElse(null);
        if (saved == null) {
            String r = region();
            savedRegions.put(r, true);
            steps.add(Step.fault(Step.Kind.REDIS_SAVE, r, null));
        } else {
            savedRegions.put(saved, false);
            steps.add(Step.fault(Step.Kind.REDIS_RDB, saved, null));
        }
    }

    // ---------------------------------------------------------------- helpers

    private State state(String qualified) {
        return states.stream().filter(s -> s.table.qualified().equals(qualified)).findFirst().orElseThrow();
    }

    private <T> T pick(List<T> list) {
        return list.get(random.nextInt(list.size()));
    }

    /** The generator's model of one table while it writes steps. */
    private final class State {
        Table initial;
        Table table;
        final BitSet live = new BitSet();
        final BitSet dead = new BitSet();
        final Map<Integer, Integer> partition = new HashMap<>();
        final List<Integer> attached = new ArrayList<>();
        final List<Integer> parked = new ArrayList<>();
        final Map<String, String> extras = new LinkedHashMap<>();
        final Set<String> retyped = new LinkedHashSet<>();
        /** Rows no later row statement touches (read before a value-changing DDL: see warmAndKeep). */
        final BitSet kept = new BitSet();
        int detached = -1;
        int nextRid;
        int extraCounter;
        boolean full;
        boolean published = true;

        State(Table t) {
            this.initial = t;
            this.table = t;
            for (int p = 0; p < (t.partitioned() ? PARTITIONS : 1); p++) {
                attached.add(p);
            }
            for (int r = 1; r <= t.rows(); r++) {
                born(r, r % attached.size());
            }
            nextRid = t.rows() + 1;
            extras.put("x0", "int4");
        }

        void born(int rid, int pt) {
            live.set(rid);
            dead.clear(rid);
            partition.put(rid, pt);
        }

        void kill(int rid) {
            live.clear(rid);
            dead.set(rid);
        }

        int partitionOf(int rid) {
            return partition.getOrDefault(rid, 0);
        }

        int randomLive() {
            if (kept.isEmpty() || !live.intersects(kept)) {
                return nth(live, random.nextInt(live.cardinality()));
            }
            BitSet free = (BitSet) live.clone();
            free.andNot(kept);
            return free.isEmpty() ? nth(live, random.nextInt(live.cardinality())) : nth(free, random.nextInt(free.cardinality()));
        }

        /** Whether a live row is not kept (a row statement may write it). */
        boolean writable() {
            BitSet free = (BitSet) live.clone();
            free.andNot(kept);
            return !free.isEmpty();
        }

        /** {@code AND rid <> ALL(...)} of the kept rows for a statement over a range of rows, else empty. */
        String notKept() {
            return kept.isEmpty() ? "" : " AND rid <> ALL(ARRAY" + kept.stream().boxed().toList() + "::int[])";
        }

        /** A dead rid that is not parked in a detached partition, or 0. */
        int randomDead() {
            int n = dead.cardinality();
            if (n == 0) {
                return 0;
            }
            int r = nth(dead, random.nextInt(n));
            return parked.contains(r) ? 0 : r;
        }

        /** A rid range holding about {@code size} live rows. */
        int[] range(int size, SplittableRandom rnd) {
            int n = live.cardinality();
            int startIndex = n <= size ? 0 : rnd.nextInt(n - size);
            int lo = nth(live, startIndex);
            int hi = nth(live, Math.min(n - 1, startIndex + size - 1));
            return new int[] {lo, hi};
        }

        /** The parent and every partition (REPLICA IDENTITY is per relation). */
        List<String> relations() {
            List<String> out = new ArrayList<>(List.of(table.qualified()));
            if (table.partitioned()) {
                for (int p = 0; p < PARTITIONS; p++) {
                    out.add(table.qualified() + "_p" + p);
                }
            }
            return out;
        }

        private int nth(BitSet set, int index) {
            int r = set.nextSetBit(0);
            for (int i = 0; i < index; i++) {
                r = set.nextSetBit(r + 1);
            }
            return r;
        }
    }
}
