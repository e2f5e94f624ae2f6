"""The oracle model answers each task with its expected answer."""

from codeact.bench import builtin
from codeact.bench.oracle import OracleFactory, OracleLLM


def test_oracle_answers():
    tasks = builtin.load_quick()
    llm = OracleLLM(tasks)
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": tasks[0].instruction}]
    assert llm.complete(msgs).text == f"<solution>{tasks[0].expected}</solution>"
    msgs[1]["content"] = "something else"
    assert "do not know" in llm.complete(msgs).text


def test_factory_is_picklable():
    import pickle

    factory = pickle.loads(pickle.dumps(OracleFactory("builtin-quick")))
    assert isinstance(factory(), OracleLLM)
