package io.lethe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Thread names as the pipeline's libraries really name them land in the right component. */
class CpuBreakdownTest {
    @Test
    void clientThreadsBelongToTheirClientNotToTheBroker() {
        assertEquals(CpuBreakdown.CAPTURE, CpuBreakdown.component("kafka-producer-network-thread | lethe-capture"));
        assertEquals(CpuBreakdown.STREAMS, CpuBreakdown.component(
                "kafka-producer-network-thread | b5mgj5k-streams-e344235e-StreamThread-1-producer"));
        assertEquals(CpuBreakdown.REGIONS, CpuBreakdown.component("kafka-coordinator-heartbeat-thread | b5mgj5k-region-us-east"));
        assertEquals(CpuBreakdown.BROKER, CpuBreakdown.component("data-plane-kafka-request-handler-1"));
        assertEquals(CpuBreakdown.BROKER, CpuBreakdown.component("group-coordinator-event-processor-0"));
    }

    @Test
    void stageThreadsBelongToTheirStage() {
        assertEquals(CpuBreakdown.CAPTURE, CpuBreakdown.component("debezium-postgresconnector-lethe_b5-change-event-source-coordinator"));
        assertEquals(CpuBreakdown.STREAMS, CpuBreakdown.component("b5mgj5k-streams-e344235e-StreamThread-1"));
        assertEquals(CpuBreakdown.REGIONS, CpuBreakdown.component("lethe-region-ap-tokyo"));
        assertEquals(CpuBreakdown.REGIONS, CpuBreakdown.component("lettuce-nioEventLoop-19-3"));
        assertNull(CpuBreakdown.component("main"));
    }

    @Test
    void aWorkersThreadsByTheirDumpedNames() {
        assertEquals(CpuBreakdown.STREAMS, CpuBreakdown.workerComponent("nb1-n2r1-streams-worker-StreamThread-1"));
        assertEquals(CpuBreakdown.STREAMS, CpuBreakdown.workerComponent(
                "kafka-producer-network-thread | nb1-n2r1-streams-7f3c-StreamThread-1-producer"));
        assertEquals(CpuBreakdown.REGIONS, CpuBreakdown.workerComponent("lethe-region-us-east"));
        assertEquals(CpuBreakdown.REGIONS, CpuBreakdown.workerComponent("kafka-coordinator-heartbeat-thread | nb1-n2r1-region-us-east"));
        assertEquals(CpuBreakdown.GC, CpuBreakdown.workerComponent("VM Thread"));
        assertEquals(CpuBreakdown.GC, CpuBreakdown.workerComponent("GC Thread#0"));
        assertEquals(CpuBreakdown.JIT, CpuBreakdown.workerComponent("C2 CompilerThread0"));
        assertEquals(CpuBreakdown.HARNESS, CpuBreakdown.workerComponent("lethe-http"));
        assertEquals(CpuBreakdown.HARNESS, CpuBreakdown.workerComponent("Attach Listener"));
        // a worker runs no broker: a Kafka-named thread without a client id is not the broker's
        assertEquals(CpuBreakdown.JVM_OTHER, CpuBreakdown.workerComponent("kafka-admin-client-thread"));
        assertEquals(CpuBreakdown.JVM_OTHER, CpuBreakdown.workerComponent("main"));
    }
}
