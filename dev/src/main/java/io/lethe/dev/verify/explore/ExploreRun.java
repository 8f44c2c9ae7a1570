package io.lethe.dev.verify.explore;

import io.lethe.cache.ReadToken;
import io.lethe.cache.ReadTokens;
import io.lethe.dev.verify.explore.Program.Column;
import io.lethe.dev.verify.explore.Program.Namespace;
import io.lethe.dev.verify.explore.Program.Table;
import io.lethe.dev.verify.explore.Truth.Owner;
import io.lethe.dev.verify.scenario.ScenarioRun;
import io.lethe.dev.verify.scenario.SecondJudge;
import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.inspect.CacheInspector;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;

/**
 * Runs one {@link Program} on the embedded stack, in its own database, slot, topics and key
 * prefix ({@link ScenarioRun}): creates the schema, starts every stage, runs the readers and the
 * steps, stops the readers, waits for a sentinel change to pass every region and every group to
 * commit what it held ({@link ScenarioRun#quiesce}), then judges every entry under the run's
 * prefix in every region against what {@link Truth} computes from the database now, and runs the
 * second judge ({@link SecondJudge}: {@code lethe inspect} over every region).
 */
final class ExploreRun {
    /** How long background readers go on after the last step, racing the invalidations still in flight. */
    private static final Duration TAIL = Duration.ofSeconds(2);
    /** How long every region's applied watermark may take to cover the last step, once the pipeline drained. */
    private static final Duration WATERMARK_TIMEOUT = Duration.ofSeconds(60);
    private final EmbeddedStack stack;
    private final List<String> regions;
    private final Program program;
    private final Path workDir;
    private final PrintStream log;
    private final boolean verbose;
    /** No step wrote or faulted since the last CHECK waited for quiescence (CHECKs in a row wait once). */
    private boolean quiesced;
    /** The stages a STOP left down, in the order they stopped. */
    private final Set<String> down = new LinkedHashSet<>();
    /** The configuration in force: the program as its CONFIG steps so far left it, and its lethe.yml parsed. */
    private Program current;
    private LetheConfig config;

    /**
     * @param workDir where a run whose stages are processes writes lethe.yml and the stages' logs
     * @param verbose print the program and every step (else only the verdict)
     */
    ExploreRun(EmbeddedStack stack, List<String> regions, Program program, Path workDir, PrintStream log, boolean verbose) {
        this.stack = stack;
        this.regions = List.copyOf(regions);
        this.program = program;
        this.workDir = workDir;
        this.log = log;
        this.verbose = verbose;
    }

    Outcome run() throws Exception {
        long t0 = System.nanoTime();
        Outcome.Builder out = new Outcome.Builder(program);
        ScenarioRun run = new ScenarioRun(stack, regions, "explore");
        Truth truth = new Truth(program, run.p());
        StageHost stages = null;
        Readers readers = null;
        Set<String> aofRegions = new LinkedHashSet<>();
        try (ConnectionPool pool = new ConnectionPool(run::connect, 12)) {
            List<String> setup = setupSql(program);
            out.setup(setup);
            for (String sql : setup) {
                run.sql(sql);
            }
            current = program;
            Map<Integer, String> later = laterYamls(run);
            String yaml = yamlOf(run, program);
            out.yaml(yaml, later);
            if (verbose) {
                log.printf("explore seed %d: the program%n%s%n", program.seed(), Repro.text(program, setup, yaml, later));
            }
            try {
                config = ConfigLoader.parse(run.id() + "-lethe.yml", yaml, System::getenv);
            } catch (ConfigException e) {
                return out.refused("config: " + e.getMessage()).took(t0).build();
            }
            run.watch(config);
            boolean processes = program.steps().stream()
                    .anyMatch(s -> s.kind() == Step.Kind.KILL || s.kind() == Step.Kind.STOP && "kill".equals(s.b()));
            if (processes) {
                Path dir = Files.createDirectories(workDir.resolve(run.id()));
                Path file = dir.resolve("lethe.yml");
                Files.writeString(file, yaml);
                stages = new StageHost.Processes(config, file, dir.resolve("logs"));
            } else {
                stages = new StageHost.InProcess(config);
            }
            try {
                stages.startAll();
            } catch (Exception e) {
                return out.refused("start-up: " + e.getMessage()).took(t0).build();
            }
            Map<String, String> uris = new LinkedHashMap<>();
            Map<String, String> groups = new LinkedHashMap<>();
            for (String r : regions) {
                uris.put(r, stack.redisUri(r));
                groups.put(r, RegionConsumerService.groupId(config, r));
            }
            readers = new Readers(program, truth, holdsOf(config), uris, groups, subscriptions(program), pool);
            if (program.readers().background()) {
                readers.start(program.seed());
            }
            int i = 0;
            for (Step step : program.steps()) {
                i++;
                long s0 = System.nanoTime();
                String result = execute(run, config, stages, readers, step, out, aofRegions);
                String line = "step %d/%d: %s (%d ms%s)".formatted(i, program.steps().size(), step.describe(),
                        (System.nanoTime() - s0) / 1_000_000, result.isEmpty() ? "" : ", " + result);
                out.step(line);
                if (verbose) {
                    log.println("  " + line);
                }
            }
            if (!down.isEmpty()) {
                // a shrunk program may have lost a START: what is still down starts now, consumers first
                long s0 = System.nanoTime();
                List<String> order = StageHost.roles(config).stream().filter(down::contains).toList();
                for (String role : order) {
                    startOrFix(run, stages, role, out, false);
                }
                down.clear();
                String line = "after the steps: started %s, still down (%d ms)".formatted(order, (System.nanoTime() - s0) / 1_000_000);
                out.step(line);
                if (verbose) {
                    log.println("  " + line);
                }
            }
            // readers go on a moment while the last invalidations are still on their way: fills racing them
            Thread.sleep(TAIL.toMillis());
            readers.stop();
            out.reads(readers.reads(), readers.errors(), readers.slowLoads(), readers.lastError());
            run.quiesce();
            watermarksCover(run, config);
            Set<String> ambiguous = new LinkedHashSet<>();
            // the judges judge against the configuration in force at the end
            Set<String> stale = judge(run, new Truth(current, run.p()), readers, pool, out, ambiguous);
            secondJudge(config, stale, ambiguous, out);
            return out.took(t0).build();
        } catch (Exception | AssertionError e) {
            out.failure(e.getClass().getSimpleName() + ": " + e.getMessage());
            if (verbose) {
                e.printStackTrace(log);
            }
            return out.took(t0).build();
        } finally {
            if (readers != null) {
                readers.close();
            }
            if (stages != null) {
                stages.close();
            }
            for (String r : aofRegions) {
                try {
                    run.redis(r).configSet("appendonly", "no"); // the stack's Redis is shared with later runs
                } catch (RuntimeException e) {
                    log.println("could not turn the AOF of " + r + " off again: " + e);
                }
            }
            run.close();
        }
    }

    /** The schema: types, schemas, tables (partitions, indexes, replica identity), initial rows. */
    static List<String> setupSql(Program program) {
        List<String> sql = new ArrayList<>(TypeCatalog.SETUP);
        for (Table t : program.tables()) {
            if (!t.schema().equals("public")) {
                sql.add("CREATE SCHEMA IF NOT EXISTS " + t.schema());
            }
            List<String> cols = new ArrayList<>();
            for (Column c : t.columns()) {
                cols.add(Program.quote(c.name()) + " " + c.pgType().ddl() + (c.partOfKey() || c.role().equals("rid") ? " NOT NULL" : ""));
            }
            cols.add("PRIMARY KEY (" + String.join(", ", t.keyColumns().stream().map(c -> Program.quote(c.name())).toList()) + ")");
            sql.add("CREATE TABLE " + t.qualified() + " (" + String.join(", ", cols) + ")"
                    + (t.partitioned() ? " PARTITION BY LIST (pt)" : ""));
            List<String> relations = new ArrayList<>(List.of(t.qualified()));
            List<Integer> partitions = new ArrayList<>(List.of(0));
            if (t.partitioned()) {
                partitions = List.of(0, 1, 2);
                for (int p : partitions) {
                    sql.add("CREATE TABLE " + t.qualified() + "_p" + p + " PARTITION OF " + t.qualified() + " FOR VALUES IN (" + p + ")");
                    relations.add(t.qualified() + "_p" + p);
                }
            }
            sql.add("CREATE INDEX ON " + t.qualified() + " (rid)");
            if (t.replicaFull()) {
                relations.forEach(r -> sql.add("ALTER TABLE " + r + " REPLICA IDENTITY FULL"));
            }
            sql.add(Generator.insertSql(t, "generate_series(1, " + t.rows() + ")", partitions, 0));
        }
        return sql;
    }

    /** The namespaces of lethe.yml, with the run's key prefix. */
    static String namespacesYaml(Program program, String prefix) {
        StringBuilder sb = new StringBuilder();
        for (Namespace ns : program.namespaces()) {
            Table t = program.table(ns.table());
            List<String> keys = ns.keys().stream().map(k -> "\"" + k.text(prefix, ns.name()) + "\"").toList();
            sb.append(ns.name()).append(":\n");
            sb.append("  table: ").append(ns.table()).append('\n');
            sb.append("  keys: [").append(String.join(", ", keys)).append("]\n");
            if (!ns.patterns().isEmpty()) {
                sb.append("  patterns: [").append(String.join(", ", ns.patterns().stream().map(p -> "\"" + prefix + p + "\"").toList()))
                        .append("]\n");
            }
            sb.append("  primary-key: [").append(String.join(", ", t.keyColumns().stream().map(Column::name).toList())).append("]\n");
            sb.append("  version: ").append(ns.version()).append('\n');
            if (ns.upsert()) {
                sb.append("  mode: upsert\n  payload-columns: [val, n]\n");
            }
            sb.append("  fence-ttl: ").append(ns.fenceTtl()).append('\n');
        }
        return sb.toString();
    }

    private String execute(ScenarioRun run, LetheConfig config, StageHost stages, Readers readers, Step step, Outcome.Builder out,
            Set<String> aofRegions) throws Exception {
        String region = step.region() == null || step.region().equals("*")
                ? null
                : regions.get(Integer.parseInt(step.region()) % regions.size());
        boolean wasQuiesced = quiesced;
        quiesced = step.kind() == Step.Kind.CHECK || step.kind() == Step.Kind.READ && wasQuiesced;
        switch (step.kind()) {
            case TX, DDL -> {
                return sqlStep(run, config, readers, step, out);
            }
            case READ -> readers.read(step);
            case CHECK -> {
                if (!down.isEmpty()) {
                    // nothing quiesces while a stage is down (a shrunk program that lost a START)
                    out.invalid(step.describe() + ": " + down + " down");
                    return "INVALID: " + down + " down";
                }
                if (!wasQuiesced) {
                    run.quiesce();
                }
                List<String> stale = readers.check(step);
                stale.forEach(line -> out.staleRead(line + " (at " + step.describe() + ")"));
                return stale.isEmpty() ? "fresh" : stale.size() + " stale";
            }
            case RESTART, KILL -> {
                String role = role(step, region);
                down.remove(role); // a stage a STOP left down is started by it
                startOrFix(run, stages, role, out, step.kind() == Step.Kind.KILL);
                out.fault();
            }
            case STOP -> {
                String role = role(step, region);
                if (!down.add(role)) {
                    return "already down";
                }
                stages.stop(role, "kill".equals(step.b()));
                out.fault();
                return down + " down";
            }
            case START -> {
                String role = role(step, region);
                if (!down.remove(role)) {
                    return "already running";
                }
                startOrFix(run, stages, role, out, false);
                return down.isEmpty() ? "every stage running" : down + " still down";
            }
            case REDIS_SAVE -> run.redis(region).save();
            case REDIS_RDB -> {
                run.shutdownRedis(region);
                stack.restartRedis(region);
                out.fault();
            }
            case REDIS_AOF -> {
                enableAof(run, region);
                aofRegions.add(region);
                stack.crashRedis(region, List.of("appendonly yes"));
                out.fault();
            }
            case BROKER -> {
                stack.stopKafka();
                Thread.sleep(Long.parseLong(step.a()));
                stack.startKafka();
                out.fault();
            }
            case PARTITIONS -> {
                addPartitions(config, Integer.parseInt(step.a()));
                out.fault();
            }
            case PAUSE -> Thread.sleep(Long.parseLong(step.a()));
            case CONFIG -> {
                return reconfigure(run, stages, readers, step, out);
            }
            default -> throw new IllegalStateException("unknown step " + step.kind());
        }
        return "";
    }

    /**
     * A {@link Step.Kind#CONFIG}: every stage stopped (capture first), the readers switched to the new
     * definitions (rolled out first, while the stages are down), the new lethe.yml given to the stages,
     * and every stage started again, capture first and the region consumers last.
     */
    private String reconfigure(ScenarioRun run, StageHost stages, Readers readers, Step step, Outcome.Builder out) throws Exception {
        Program next = current.configuredBy(step);
        if (next.equals(current)) {
            return "no change";
        }
        String yaml = yamlOf(run, next);
        LetheConfig nextConfig = ConfigLoader.parse(run.id() + "-lethe.yml", yaml, System::getenv);
        List<String> upstreamFirst = new ArrayList<>(StageHost.roles(config));
        java.util.Collections.reverse(upstreamFirst);
        for (String role : upstreamFirst) {
            stages.stop(role, false);
        }
        down.clear();
        current = next;
        boolean readersLast = !step.rids().isEmpty();
        if (!readersLast) {
            readers.reconfigure(next, new Truth(next, run.p()), holdsOf(nextConfig), subscriptions(next));
        }
        stages.reconfigure(nextConfig, yaml);
        config = nextConfig;
        run.watch(nextConfig);
        for (String role : upstreamFirst) {
            startOrFix(run, stages, role, out, false);
        }
        out.fault();
        if (!readersLast) {
            return "every stage started again under the new lethe.yml";
        }
        // the regions moved (their markers record the new file); the readers still on the old one read, then switch
        run.awaitFedUnder(nextConfig, regions.toArray(String[]::new));
        readers.read(Step.read(step.a(), "r", "*", step.rids()));
        readers.reconfigure(next, new Truth(next, run.p()), holdsOf(nextConfig), subscriptions(next));
        return "every stage started again under the new lethe.yml; readers on the old one read rids " + step.rids() + ", then switched";
    }

    /** What each namespace's entries hold under {@code c} ({@code NamespaceConfig.holdsRendered}): the readers declare it. */
    private static Map<String, List<String>> holdsOf(LetheConfig c) {
        Map<String, List<String>> holds = new LinkedHashMap<>();
        c.namespaces().forEach((name, ns) -> holds.put(name, ns.readerHolds()));
        return holds;
    }

    /** The lethe.yml of configuration {@code p}: its namespaces, and the last region's subscriptions when it caches some only. */
    private String yamlOf(ScenarioRun run, Program p) {
        if (regions.size() > 1) {
            run.regionSettings(regions.get(regions.size() - 1), p.partialRegionNamespaces().isEmpty()
                    ? ""
                    : "namespaces: [sentinel, " + String.join(", ", p.partialRegionNamespaces()) + "]");
        }
        return run.yaml(namespacesYaml(p, run.p()), "");
    }

    /** The lethe.yml in force after each CONFIG step that changes something, by step number (from 1). */
    private Map<Integer, String> laterYamls(ScenarioRun run) {
        Map<Integer, String> out = new LinkedHashMap<>();
        Program p = program;
        for (int i = 0; i < program.steps().size(); i++) {
            Step s = program.steps().get(i);
            if (s.kind() == Step.Kind.CONFIG) {
                Program next = p.configuredBy(s);
                if (!next.equals(p)) {
                    out.put(i + 1, yamlOf(run, next));
                }
                p = next;
            }
        }
        return out;
    }

    /** The namespaces each region caches under configuration {@code p}. */
    private Map<String, List<String>> subscriptions(Program p) {
        String partialRegion = regions.get(regions.size() - 1);
        Map<String, List<String>> subscribed = new LinkedHashMap<>();
        for (String r : regions) {
            subscribed.put(r, r.equals(partialRegion) && !p.partialRegionNamespaces().isEmpty() && regions.size() > 1
                    ? p.partialRegionNamespaces()
                    : p.namespaces().stream().map(Namespace::name).toList());
        }
        return subscribed;
    }

    private static String role(Step step, String region) {
        return step.a().equals("region") ? "region:" + region : step.a();
    }

    /**
     * Starts a stage: restarts it (or kills and starts it) when it runs, starts it when a STOP left it
     * down. When a start-up check refuses it (a DDL step broke one of its requirements), does what the
     * refusal says, as an operator would, and starts it again; the judge then sees whether Lethe
     * catches up on what happened meanwhile.
     */
    private static void startOrFix(ScenarioRun run, StageHost stages, String role, Outcome.Builder out, boolean kill) throws Exception {
        try {
            if (kill) {
                stages.kill(role);
            } else {
                stages.restart(role);
            }
        } catch (Exception e) {
            List<String> fixes = startupFixes(e);
            if (fixes.isEmpty()) {
                throw e;
            }
            try (Connection c = run.connect(); Statement s = c.createStatement()) {
                for (String sql : fixes) {
                    s.execute(sql);
                }
            }
            out.note(role + " refused to start; applied its fix " + fixes + " and started it again");
            stages.restart(role);
        }
    }

    private static String sqlStep(ScenarioRun run, LetheConfig config, Readers readers, Step step, Outcome.Builder out)
            throws SQLException {
        long rows = 0;
        try (Connection c = run.connect()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String sql : step.sql()) {
                    s.execute(sql.replace("${publication}", config.source().publication()));
                    rows += Math.max(0, s.getUpdateCount());
                    out.statement();
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                out.invalid(step.describe() + ": " + e.getMessage());
                return "INVALID: " + e.getMessage().replace('\n', ' ');
            }
            c.setAutoCommit(true);
            readers.token(ReadTokens.take(c));
        }
        out.rows(rows);
        return rows + " rows";
    }

    /**
     * The SQL fixes a stage's refused start-up names under its FAIL checks ({@code fix: ALTER TABLE ...;}),
     * only statements that change a table's or the publication's settings; empty when there are none.
     */
    static List<String> startupFixes(Throwable e) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            text.append(t.getMessage()).append('\n');
        }
        List<String> out = new ArrayList<>();
        boolean underFail = false;
        for (String line : text.toString().split("\n")) {
            String l = line.strip();
            if (l.startsWith("FAIL")) {
                underFail = true;
            } else if (l.startsWith("fix:") && underFail) {
                for (String sql : l.substring("fix:".length()).split(";")) {
                    String stmt = sql.strip();
                    if (stmt.startsWith("ALTER TABLE ") || stmt.startsWith("ALTER PUBLICATION ")) {
                        out.add(stmt);
                    }
                }
                underFail = false;
            } else if (!l.isEmpty() && !l.startsWith("fix:")) {
                underFail = l.contains("FAIL ");
            }
        }
        return out;
    }

    /** Turns the AOF on (once) and waits until its first rewrite is done, so a crash restarts from it. */
    private static void enableAof(ScenarioRun run, String region) throws InterruptedException {
        var redis = run.redis(region);
        if (!"yes".equals(redis.configGet("appendonly").get("appendonly"))) {
            redis.configSet("appendonly", "yes");
        }
        ScenarioRun.await("the AOF rewrite of " + region, Duration.ofSeconds(60), () -> {
            String info = redis.info("persistence");
            return info.contains("aof_enabled:1") && info.contains("aof_rewrite_in_progress:0")
                    && !info.contains("aof_rewrite_scheduled:1");
        });
    }

    /**
     * Every region's applied watermark covers a token taken now: with nothing left hiding changes
     * at the end, every stage vouches again. A stage that holds its watermarks for good (a source
     * watch that keeps failing, a condition that hides changes) answers every read-your-writes read
     * from the database and lets lag alerts fire; no entry need be stale for that to be a failure.
     */
    private static void watermarksCover(ScenarioRun run, LetheConfig config) throws Exception {
        ReadToken token;
        try (Connection primary = run.connect()) {
            token = ReadTokens.take(primary);
        }
        for (String region : config.regions().keySet()) {
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, region));
            ScenarioRun.await(region + "'s applied watermark to cover a token taken after the last step (a stage that holds its "
                    + "watermarks: see its log)", WATERMARK_TIMEOUT, () -> {
                        OptionalLong lsn = AppliedLsn.of(run.redis(region).hgetall(key));
                        return lsn.isPresent() && lsn.getAsLong() >= token.lsn();
                    });
        }
    }

    private static void addPartitions(LetheConfig config, int more) throws Exception {
        Set<String> topics = new LinkedHashSet<>();
        topics.add(config.topics().changes());
        config.regions().keySet().forEach(r -> topics.add(config.topics().invalidations(r)));
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "explore-partitions"))) {
            Map<String, NewPartitions> increase = new HashMap<>();
            var described = admin.describeTopics(topics).allTopicNames().get();
            described.forEach((name, d) -> increase.put(name, NewPartitions.increaseTo(d.partitions().size() + more)));
            admin.createPartitions(increase).all().get();
        }
    }

    /** Every entry under the run's prefix, in every region, against the database now; then every read key read again. */
    private Set<String> judge(ScenarioRun run, Truth truth, Readers readers, ConnectionPool pool, Outcome.Builder out,
            Set<String> ambiguous)
            throws SQLException {
        Set<String> staleKeys = new LinkedHashSet<>();
        Map<Owner, Map<String, String>> expected = new LinkedHashMap<>();
        try (ConnectionPool.Lease c = pool.lease()) {
            for (Owner o : truth.owners()) {
                expected.put(o, truth.expected(c.get(), o, ambiguous));
            }
        }
        for (String region : regions) {
            var redis = run.redis(region);
            for (String key : ScenarioRun.keys(redis, KeyTemplate.escapeGlob(run.p()) + "*")) {
                if (key.startsWith(run.p() + "sentinel:")) {
                    continue;
                }
                Owner o = truth.owner(key);
                if (o == null) {
                    out.stale(region, key, "a key no template or pattern of the run renders", "unknown-key", false);
                    continue;
                }
                if (ambiguous.contains(key)) {
                    out.note("not judged (two rows render it): " + key);
                    continue;
                }
                Map<String, String> entry = redis.type(key).equals("hash") ? redis.hgetall(key) : null;
                if (entry == null) {
                    String type = redis.type(key);
                    if (!type.equals("none")) {
                        out.stale(region, key, "a " + type + " where a versioned entry belongs", "foreign-type", false);
                    }
                    continue;
                }
                if (entry.isEmpty()) {
                    continue; // gone between SCAN and read
                }
                out.checked();
                boolean negative = "1".equals(entry.get(RedisLayout.ENTRY_NOT_FOUND));
                String cached = negative ? null : entry.get(RedisLayout.ENTRY_DATA);
                String want = expected.get(o).get(key);
                String kind = o.kind() + "/" + o.ns().mode() + "/" + (o.ns().columnVersion() ? "column" : "lsn");
                if (negative && want != null || !negative && want == null || !negative && !Truth.samePayload(o, cached, want)) {
                    staleKeys.add(region + '\0' + key);
                }
                if (negative && want != null) {
                    out.stale(region, key, "cached 'no row', database " + Readers.show(want),
                            kind + ": negative entry while the row exists", false);
                } else if (!negative && want == null) {
                    boolean lost = readers.loadedBefore(region, key, cached);
                    out.stale(region, key,
                            "cached " + Readers.show(cached) + " (v " + entry.get(RedisLayout.ENTRY_VERSION) + "), database has no row",
                            kind + ": value cached for a key no current row has", lost);
                } else if (!negative && !Truth.samePayload(o, cached, want)) {
                    boolean lost = readers.loadedBefore(region, key, cached);
                    out.stale(region, key, Readers.compare(cached, want) + " (v " + entry.get(RedisLayout.ENTRY_VERSION) + ")",
                            kind + ": old value", lost);
                }
            }
        }
        for (String line : readers.staleReads(expected::get, 2_000)) {
            out.staleRead(line);
        }
        return staleKeys;
    }

    /**
     * The second judge: {@code lethe inspect} (no heal) over every region, knowing only lethe.yml
     * and the database. An entry it confirms stale fails the run; one the first judge found fresh
     * is marked so (one of the two judges is wrong). A key two rows render is not judged, as by the
     * first judge.
     */
    private void secondJudge(LetheConfig config, Set<String> firstJudgeStale, Set<String> ambiguous, Outcome.Builder out) throws Exception {
        for (SecondJudge.Verdict v : SecondJudge.inspect(config, regions)) {
            out.inspected(v.summary().scanned(), v.summary().counts());
            out.step(v.line());
            if (verbose) {
                log.println("  " + v.line());
            }
            for (CacheInspector.Report r : v.summary().confirmed()) {
                if (ambiguous.contains(r.key())) {
                    out.note("inspector: not judged (two rows render it): " + SecondJudge.describe(v.region(), r));
                    continue;
                }
                out.inspectorStale(SecondJudge.describe(v.region(), r), r.finding().name(), SecondJudge.fails(r),
                        firstJudgeStale.contains(v.region() + '\0' + r.key()));
            }
            v.summary().unconfirmed().forEach(r -> out.note("inspector could not confirm " + SecondJudge.describe(v.region(), r)));
        }
    }
}
