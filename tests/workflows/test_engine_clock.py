"""The engine's clock: each run sees the moment it was asked to act at, and nothing is left frozen afterwards."""
from __future__ import annotations

import datetime as dt
import threading

from workflows import engine
from workflows.engine import clock

PROCESS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">'
    b'<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start" />'
    b'<bpmn:serviceTask id="prepare" camunda:type="external" camunda:topic="prepare" />'
    b'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>'
    b'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="end" />'
    b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />'
    b'<bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="wait" />'
    b'<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="end" />'
    b"</bpmn:process></bpmn:definitions>"
)


def test_overlapping_runs_each_see_their_own_time_and_the_clock_is_never_left_frozen():
    spec_json = engine.compile_files({"p.bpmn": PROCESS})["p"].spec_json
    moments = [dt.datetime(2030, 1, 1, 8, tzinfo=dt.UTC), dt.datetime(2031, 6, 1, 8, tzinfo=dt.UTC)]
    both_inside = threading.Barrier(2, timeout=30)
    seen: dict[int, dt.datetime] = {}
    due: dict[int, dt.datetime | None] = {}
    errors: list[BaseException] = []

    def act(index: int) -> None:
        try:
            run = engine.Run.start(spec_json, {})

            def handler(topic: str, task: engine.TaskView) -> None:
                both_inside.wait()  # both runs are now inside advance(), each with its own moment set
                seen[index] = clock.now()
                both_inside.wait()  # neither leaves before the other has read the clock

            run.advance(handler, now=moments[index])
            due[index] = run.next_timer_at()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert seen == {0: moments[0], 1: moments[1]}
    assert due == {0: moments[0] + dt.timedelta(hours=1), 1: moments[1] + dt.timedelta(hours=1)}
    # Afterwards the engine (and SpiffWorkflow's timer module) read the real clock again.
    real = dt.datetime.now(dt.UTC)
    assert abs(clock.now() - real) < dt.timedelta(minutes=1)
    run = engine.Run.start(spec_json, {})
    run.advance(lambda topic, task: None)
    assert abs(run.next_timer_at() - (real + dt.timedelta(hours=1))) < dt.timedelta(minutes=1)


def test_a_run_without_a_moment_reads_the_real_clock():
    with clock.at(None):
        assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with clock.at(moment):
        assert clock.now() == moment
    assert clock.now() != moment
