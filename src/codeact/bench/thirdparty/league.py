"""Domain ``league``: a six-team football league after five rounds of results."""

from __future__ import annotations

import re

from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import ToolSpec, make_task

DOMAIN = "league"
TEAMS = ["Rovers", "United", "Athletic", "City", "Wanderers", "Albion"]
# round: [(home, home goals, away goals, away)]; a single round robin, circle method
ROUNDS: dict[int, list[tuple[str, int, int, str]]] = {
    1: [("Rovers", 2, 1, "Albion"), ("United", 0, 0, "Wanderers"), ("Athletic", 3, 1, "City")],
    2: [("Wanderers", 1, 1, "Rovers"), ("City", 2, 0, "Albion"), ("United", 2, 1, "Athletic")],
    3: [("Rovers", 0, 2, "City"), ("Athletic", 4, 0, "Wanderers"), ("Albion", 1, 3, "United")],
    4: [("Athletic", 2, 2, "Rovers"), ("United", 1, 0, "City"), ("Albion", 2, 1, "Wanderers")],
    5: [("Rovers", 3, 1, "United"), ("Albion", 0, 1, "Athletic"), ("Wanderers", 2, 2, "City")],
}
_RESULT = re.compile(r"^\s*(.+?)\s+(\d+)\s*-\s*(\d+)\s+(.+?)\s*$")


def _team(name):
    for t in TEAMS:
        if t.lower() == str(name).strip().lower():
            return t
    raise KeyError(f"unknown team {name!r}; teams: {', '.join(TEAMS)}")


def list_teams():
    return list(TEAMS)


def rounds_played():
    return len(ROUNDS)


def get_results(round_no):
    n = int(round_no)
    if n not in ROUNDS:
        raise ValueError(f"round {round_no!r} has not been played; rounds are 1..{len(ROUNDS)}")
    return [f"{h} {hg}-{ag} {a}" for h, hg, ag, a in ROUNDS[n]]


def parse_score(result):
    m = _RESULT.match(str(result))
    if not m:
        raise ValueError(f"cannot read result {result!r}; expected 'Home 2-1 Away'")
    return [m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)]


def team_matches(team):
    t = _team(team)
    out = []
    for n, matches in ROUNDS.items():
        for h, hg, ag, a in matches:
            if t == h:
                out.append({"round": n, "opponent": a, "venue": "home", "scored": hg,
                            "conceded": ag})
            elif t == a:
                out.append({"round": n, "opponent": h, "venue": "away", "scored": ag,
                            "conceded": hg})
    return out


def points_for(scored, conceded):
    s, c = int(scored), int(conceded)
    return 3 if s > c else 1 if s == c else 0


def rank_teams(points, *tiebreakers):
    if not isinstance(points, dict):
        raise TypeError("points must be a dict {team: points}")
    for tb in tiebreakers:
        if not isinstance(tb, dict) or set(tb) != set(points):
            raise TypeError("each tie-breaker must be a dict with the same teams as points")
    return sorted(points, key=lambda t: [points[t], *(tb[t] for tb in tiebreakers)],
                  reverse=True)


TOOLS: list[ToolSpec] = [
    ("list_teams", list_teams, "Names of the league's teams.", "list_teams() -> list of str"),
    ("rounds_played", rounds_played, "How many rounds have been played so far.",
     "rounds_played() -> int"),
    ("get_results", get_results,
     "Results of one round as strings 'Home 2-1 Away' (home team's goals first).",
     "get_results(round_no: int) -> list of str"),
    ("parse_score", parse_score,
     "Split a result string into [home team, home goals, away goals, away team].",
     "parse_score(result: str) -> [str, int, int, str]"),
    ("team_matches", team_matches,
     "All of a team's matches so far, as dicts with round, opponent, venue ('home' or "
     "'away'), scored and conceded.",
     "team_matches(team: str) -> list of dict"),
    ("points_for", points_for, "League points for one match: 3 for a win, 1 for a draw, "
     "0 for a loss.", "points_for(scored: int, conceded: int) -> int"),
    ("rank_teams", rank_teams,
     "Team names ordered best first: by points, then by each tie-breaker dict in turn "
     "(higher is better). Each dict maps every team to a number.",
     "rank_teams(points: dict, *tiebreakers: dict) -> list of str"),
]

_TABLE = """
points, diff, scored = {}, {}, {}
for t in list_teams():
    ms = team_matches(t)
    points[t] = sum(points_for(m["scored"], m["conceded"]) for m in ms)
    scored[t] = sum(m["scored"] for m in ms)
    diff[t] = scored[t] - sum(m["conceded"] for m in ms)
"""


def load() -> list[Task]:
    tasks = [
        ("rovers-points", "How many league points do Rovers have so far (3 for a win, 1 for "
         "a draw)?",
         """
         answer = sum(points_for(m["scored"], m["conceded"]) for m in team_matches("Rovers"))
         """, {}),
        ("leader", "Which team is top of the table? Rank by points, then goal difference, "
         "then goals scored.",
         _TABLE + """
key = {t: (points[t], diff[t], scored[t]) for t in points}
answer = rank_teams(points, diff, scored)[0]
""", {"unique": "key"}),
        ("top-three", "List the top three teams of the table in order, ranked by points, "
         "then goal difference, then goals scored.",
         _TABLE + """
answer = rank_teams(points, diff, scored)[:3]
""", {}),
        ("goal-difference", "What is each team's goal difference (goals scored minus goals "
         "conceded)? Answer with a dict {team: goal difference}.",
         _TABLE + """
answer = diff
""", {}),
        ("unbeaten-home", "Which teams have not lost any of their home matches? Answer with "
         "the team names, in any order.",
         """
         answer = [t for t in list_teams()
                   if all(m["scored"] >= m["conceded"]
                          for m in team_matches(t) if m["venue"] == "home")]
         """, {"unordered": True}),
        ("best-round", "Which round had the most goals in total? Answer with the round "
         "number.",
         """
         goals = {}
         for n in range(1, rounds_played() + 1):
             goals[n] = sum(parse_score(r)[1] + parse_score(r)[2] for r in get_results(n))
         answer = max(goals, key=goals.get)
         """, {"unique": "goals"}),
        ("clean-sheets", "Has United kept more clean sheets (matches without conceding a "
         "goal) than City? Answer true or false.",
         """
         def clean_sheets(team):
             return sum(1 for m in team_matches(team) if m["conceded"] == 0)
         answer = clean_sheets("United") > clean_sheets("City")
         """, {}),
    ]
    return [make_task(DOMAIN, name, prompt, code, TOOLS, **opts)
            for name, prompt, code, opts in tasks]
