package io.lethe.stage.kafka;

/**
 * Under {@code kafka.create-topics: false}, topics a stage uses are missing or not as Lethe needs
 * them: a configuration error of the cluster, reported once at start with every topic and what is
 * expected ({@link TopicSetup#lockedDownMessage}); {@code lethe run} prints it and exits.
 */
public final class TopicsNotReadyException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public TopicsNotReadyException(String message) {
        super(message);
    }
}
