"""Chat replies: bare values get prose, and the prose always carries the value."""


from codeact.agent import Agent
from codeact.agent.reply import final_reply, is_prose, needs_reply
from codeact.llm.scripted import ScriptedLLM


def test_bare_values_need_a_reply_prose_does_not():
    for bare in ["9", "396", "total", "[1, 4, 9]", "def f(x):\n    return x",
                 "<execute>print(1)</execute> and then the result is here"]:
        assert needs_reply(bare), bare
    assert not needs_reply("The total of the squares of 1 to 4 is 30.")
    assert not needs_reply("Result: **42**")  # words around the value: it stands
    assert is_prose("I plotted the squares as a bar chart above.")


def test_the_reply_keeps_the_value_and_never_is_bare():
    assert final_reply("I computed 17 * 23 + 5, which is 396.", "396") == \
        "I computed 17 * 23 + 5, which is 396."
    assert final_reply("I computed the product and added five to it.", "396") == \
        "I computed the product and added five to it.\n\nResult: 396"
    assert final_reply("<execute>print(396)</execute>", "396") == "The result is 396."
    assert final_reply("", "def f():\n    pass") == "Here is the result:\n\ndef f():\n    pass"


def test_a_chat_turn_that_ends_on_a_bare_value_ends_with_prose(session):
    llm = ScriptedLLM(["<execute>x = 17 * 23 + 5\nprint(x)</execute>",
                       "<execute>final_answer(x)</execute>",
                       "I multiplied 17 by 23 and added 5: the result is 396."])
    agent = Agent(llm, session=session, chat=True)
    traj = agent.run("What is 17 * 23 + 5? Compute it.")
    assert traj.stop_reason == "solution"
    assert traj.answer == "I multiplied 17 by 23 and added 5: the result is 396."
    assert agent.messages[-1] == {"role": "assistant", "content": traj.answer}
    assert "Your result was recorded: 396" in agent.messages[-2]["content"]
    assert [t.turn for t in traj.turns] == [1, 2, 3] and traj.turns[-1].action == "none"
    assert agent.prompt_name == "chat"


def test_outside_chat_the_answer_stays_the_value(session):
    llm = ScriptedLLM(["<execute>final_answer(17 * 23 + 5)</execute>"])
    traj = Agent(llm, session=session).run("What is 17 * 23 + 5?")
    assert traj.answer == "396" and len(traj.turns) == 1
