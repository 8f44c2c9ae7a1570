package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * STAGE_ORDER's blocks are valid where the program runs whole (every stage it stops is started again,
 * no stage is stopped twice or started while running, no CHECK falls while one is down) and draw the
 * orders it is for: a stage started while one upstream of it is down, DDL and a Redis restart while
 * stages are down, kill -9 with the kill feature; the ci profile draws none of it.
 */
class GeneratorStageOrderTest {
    private static final List<String> UPSTREAM = List.of("capture", "streams", "region");

    @Test
    void blocksAreBalancedAndDrawTheOrdersTheyAreFor() {
        List<String> broken = new ArrayList<>();
        int blocks = 0;
        int upstreamDown = 0;
        int ddlWhileDown = 0;
        int redisWhileDown = 0;
        int redisWhileItsConsumerDown = 0;
        int writesWhileDown = 0;
        Profile profile = Profile.named("ci").with("stage-order");
        for (long seed = 1; seed <= 200; seed++) {
            Program p = Generator.generate(seed, profile, 2);
            Set<String> down = new LinkedHashSet<>();
            for (Step s : p.steps()) {
                String role = s.a() + (s.region() == null ? "" : ":" + s.region());
                switch (s.kind()) {
                    case STOP -> {
                        if (down.isEmpty()) {
                            blocks++;
                        }
                        if (!down.add(role)) {
                            broken.add("seed " + seed + ": " + role + " stopped twice");
                        }
                        if (!s.b().equals("stop")) {
                            broken.add("seed " + seed + ": kill -9 without the kill feature");
                        }
                    }
                    case START -> {
                        if (!down.remove(role)) {
                            broken.add("seed " + seed + ": " + role + " started while running");
                        }
                        int rank = UPSTREAM.indexOf(s.a());
                        if (down.stream().anyMatch(d -> UPSTREAM.indexOf(d.replaceAll(":.*", "")) < rank)) {
                            upstreamDown++;
                        }
                    }
                    case CHECK, RESTART, KILL -> {
                        if (!down.isEmpty()) {
                            broken.add("seed " + seed + ": " + s.describe() + " while " + down + " down");
                        }
                    }
                    case DDL -> ddlWhileDown += down.isEmpty() ? 0 : 1;
                    case TX -> writesWhileDown += down.isEmpty() ? 0 : 1;
                    case REDIS_RDB, REDIS_AOF -> {
                        redisWhileDown += down.isEmpty() ? 0 : 1;
                        redisWhileItsConsumerDown += down.contains("region:" + s.region()) ? 1 : 0;
                    }
                    default -> {
                    }
                }
            }
            if (!down.isEmpty()) {
                broken.add("seed " + seed + ": " + down + " still down at the end");
            }
        }
        assertEquals(List.of(), broken);
        assertTrue(blocks > 100 && upstreamDown > 50 && ddlWhileDown > 30 && redisWhileDown > 10 && redisWhileItsConsumerDown > 5
                && writesWhileDown > blocks,
                "drawn: " + blocks + " blocks, " + upstreamDown + " starts with an upstream stage down, " + ddlWhileDown + " DDL, "
                        + redisWhileDown + " Redis restarts (" + redisWhileItsConsumerDown + " while their region's consumer is down) and "
                        + writesWhileDown + " writes while stages are down");
    }

    @Test
    void killsAreDrawnWithTheKillFeatureAndNothingInCi() {
        int kills = 0;
        for (long seed = 1; seed <= 50; seed++) {
            kills += (int) Generator.generate(seed, Profile.named("ci").with("stage-order,kill"), 2).steps().stream()
                    .filter(s -> s.kind() == Step.Kind.STOP && s.b().equals("kill")).count();
            assertTrue(Generator.generate(seed, Profile.named("ci"), 2).steps().stream()
                    .noneMatch(s -> s.kind() == Step.Kind.STOP || s.kind() == Step.Kind.START), "seed " + seed + " in ci");
        }
        assertTrue(kills > 10, kills + " kills");
    }
}
