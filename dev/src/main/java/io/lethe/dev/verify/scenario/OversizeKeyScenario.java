package io.lethe.dev.verify.scenario;

/**
 * A key longer than {@code streams.max-key-bytes}: readers can cache it (they do not know the
 * limit), but the pipeline will not send it. It used to be dead-lettered and nothing deleted;
 * now its template's whole glob is invalidated.
 */
final class OversizeKeyScenario implements Scenario {
    @Override
    public String name() {
        return "oversize-key";
    }

    @Override
    public String summary() {
        return "a rendered key over streams.max-key-bytes";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 2);
        String longSlug = "s".repeat(120);
        run.sql("UPDATE items SET slug = '" + longSlug + "' WHERE id = 2");
        run.start(run.config(Items.namespace(run, ""), "streams: { max-key-bytes: 100 }"));
        run.truth(Items.truth(run));
        Items.fillCurrent(run, "1", 1, 2);
        run.done("filled item 2's keys, one of them %s (%d bytes) in every region", run.p() + "slug:s...",
                (run.p() + "slug:" + longSlug).length());
        run.sql("UPDATE items SET val = 'v2.1' WHERE id = 2");
        run.done("UPDATE items SET val = 'v2.1' WHERE id = 2 (streams.max-key-bytes: 100)");
        run.quiesce();
    }
}
