package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class StartupFixesTest {
    @Test
    void onlyTheFixesOfFailedChecksAreTaken() {
        // seed 401 (profile all): capture killed after a REPLICA IDENTITY DEFAULT step is refused at start
        IllegalStateException e = new IllegalStateException("""
                capture exited:
                19:29:17.124 [main] [WARN] SlotRecovery - WARN max_slot_wal_keep_size: max_slot_wal_keep_size is unlimited
                      fix: ALTER SYSTEM SET max_slot_wal_keep_size = '10GB'; SELECT pg_reload_conf();
                capture cannot start:
                  FAIL table public.t0: namespace n1 keys use non-key column(s) [g_char], but REPLICA IDENTITY is DEFAULT
                      fix: ALTER TABLE public.t0_p1 REPLICA IDENTITY FULL;  ALTER TABLE public.t0 REPLICA IDENTITY FULL;
                """);
        assertEquals(List.of("ALTER TABLE public.t0_p1 REPLICA IDENTITY FULL", "ALTER TABLE public.t0 REPLICA IDENTITY FULL"),
                ExploreRun.startupFixes(e));
        assertEquals(List.of(), ExploreRun.startupFixes(new IllegalStateException("capture exited:\nsome crash")));
    }
}
