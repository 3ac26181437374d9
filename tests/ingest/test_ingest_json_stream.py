"""The piecewise JSON reader: same values and same error places as json.loads."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from ingest import json_stream
from ingest.errors import IngestError
from ingest.json_stream import JsonStream, JsonSyntaxError
from ingest.loading import load_run


@pytest.fixture(params=[1, 3, 7, 1 << 20], ids=lambda size: f"chunk{size}")
def chunk(request, monkeypatch):
    # Tiny chunks put a chunk boundary inside every token at least once.
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", request.param)
    return request.param


def _whole(text: str):
    stream = JsonStream(io.StringIO(text))
    value = stream.value()
    stream.end()
    return value


DOCUMENTS = [
    '[{"task_id": 1, "traj": [{"role": "user", "content": "hi\\nthere"}]}, {"task_id": 22}]',
    '{\n  "info": {"a": [1, 2.5e3, -7]},\n  "tasks": [],\n  "simulations": [true, null]\n}\n',
    '  "text with \\u00e9 and \\" quote"  ',
    "12345",
    "[]",
    "{}",
    # Long whitespace runs inside a value are cut; runs inside strings must survive.
    '[["a' + " " * 700 + 'b", ' + " \n" * 600 + '"c\\"' + " " * 600 + 'd"' + "\t" * 300 + "]]",
    '{"sims": [' + " " * 5000 + "1," + "\r\n" * 400 + '"' + " " * 999 + '"]}',
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_value_matches_json_loads(text, chunk):
    assert _whole(text) == json.loads(text)


def test_items_and_keys_walk_the_top_level(chunk):
    stream = JsonStream(io.StringIO('{"a": 1, "sims": [{"x": 1}, [2], "3"], "b": {"c": null}}'))
    seen = {}
    for key in stream.keys():
        seen[key] = list(stream.items()) if key == "sims" else stream.value()
    stream.end()

    assert seen == {"a": 1, "sims": [{"x": 1}, [2], "3"], "b": {"c": None}}


BROKEN = [
    '{\n  "info": {},\n  "tasks": [1 2]\n}\n',  # inside a value json parses
    '[\n {"task_id": 1}\n {"task_id": 2}\n]',  # between elements we step over
    '{"info": {}\n "tasks": []}',  # between members
    '{"info" {}}',
    "{\n  3: 4}",
    "[1, 2,\n",  # truncated after a comma
    '[{"task_id": 1, "traj": [',  # truncated inside an element
    "[1] [2]",
    "",
    # Errors after whitespace runs that were cut name the same place as json.loads.
    "[[1," + " " * 1000 + "\n" * 3 + " " * 500 + "2 3]]",
    '[{"a": [' + "\n" * 600 + '"x' + " " * 700 + '"' + " " * 700 + "}]",
    '[["' + " " * 1000 + '"' + " " * 1000 + ", 1 2]]",
    "[[1," + " " * 2000,
]


@pytest.mark.parametrize("text", BROKEN)
def test_errors_name_the_same_line_and_column_as_json_loads(text, chunk):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)

    def walk():
        stream = JsonStream(io.StringIO(text))
        if stream.peek() == "[":
            list(stream.items())
        elif stream.peek() == "{":
            for _ in stream.keys():
                stream.value()
        else:
            stream.value()
        stream.end()

    with pytest.raises(JsonSyntaxError) as raised:
        walk()

    assert (raised.value.line, raised.value.column) == (expected.value.lineno, expected.value.colno)
    assert raised.value.message == expected.value.msg


def test_tau2_file_with_simulations_before_tasks_is_read_whole(tau2_doc, write_json):
    reordered = {"simulations": tau2_doc["simulations"], **tau2_doc}

    run = load_run(write_json(reordered))

    assert len(run.simulations) == len(tau2_doc["simulations"]) == 12
    assert run.simulations[0].task_id == "t1"


def test_trailing_data_after_the_document_is_an_error(fixtures, tmp_path):
    path = tmp_path / "twice.json"
    text = (fixtures / "handwritten_tau_bench.json").read_text()
    path.write_text(text + text)

    with pytest.raises(IngestError, match=r"malformed JSON \(Extra data\)"):
        load_run(path)


def test_whitespace_inside_a_value_does_not_pile_up():
    # 20 MB of spaces inside one element: the buffer keeps one of each cut run.
    text = "[[1," + " " * 20_000_000 + "2]]"
    source = io.StringIO(text)
    tracemalloc.start()
    try:
        assert list(JsonStream(source).items()) == [[1, 2]]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4_000_000
