"""Domain ``calendar``: four people's meetings over one working week, and a booking tool.

Stateful: :func:`make_tools` builds a fresh :class:`TeamCalendar` for every run, so a
meeting booked in one run never shows up in another.
"""

from __future__ import annotations

import copy

from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import ToolSpec, make_task

DOMAIN = "calendar"
WEEK = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
DAY_START, DAY_END = "09:00", "17:00"
_SU = ("Standup", "09:00", "09:15")

EVENTS: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "Priya": {
        "2024-03-04": [_SU, ("Planning", "10:00", "11:30"), ("1:1 Tom", "14:00", "14:30")],
        "2024-03-05": [_SU, ("Customer call", "11:00", "12:00"),
                       ("Budget review", "13:30", "15:00"), ("Hiring panel", "15:30", "16:15")],
        "2024-03-06": [_SU, ("Workshop", "09:30", "12:00"), ("Design sync", "14:00", "15:00")],
        "2024-03-07": [_SU, ("Vendor demo", "10:30", "11:15"),
                       ("Vendor follow-up", "11:00", "11:45")],
        "2024-03-08": [_SU, ("Retro", "15:00", "16:00")],
    },
    "Tom": {
        "2024-03-04": [_SU, ("1:1 Priya", "14:00", "14:30"), ("Code review", "15:00", "16:30")],
        "2024-03-05": [_SU, ("Release prep", "09:30", "12:30"), ("Deploy", "13:00", "14:00")],
        "2024-03-06": [_SU, ("Interview", "10:00", "11:00"), ("Design sync", "14:00", "15:00"),
                       ("Mentoring", "15:30", "16:00")],
        "2024-03-07": [_SU, ("Offsite", "09:30", "16:30")],
        "2024-03-08": [_SU, ("Planning", "11:00", "12:00"), ("Retro", "15:00", "16:00"),
                       ("Hiring sync", "16:00", "16:30")],
    },
    "Ana": {
        "2024-03-04": [_SU, ("Sales sync", "10:00", "11:00"), ("Client lunch", "12:00", "13:30"),
                       ("Report writing", "13:30", "15:30")],
        "2024-03-05": [_SU, ("Training", "09:30", "12:00"), ("Forecast", "13:00", "14:00")],
        "2024-03-06": [_SU, ("Budget", "09:30", "10:15"), ("Client call", "11:15", "12:00"),
                       ("Design sync", "14:00", "15:00")],
        "2024-03-07": [_SU, ("Team lunch", "12:00", "13:00"), ("Demo", "15:00", "16:00")],
        "2024-03-08": [_SU, ("Quarterly review", "13:00", "16:30")],
    },
    "Lee": {
        "2024-03-04": [_SU, ("Support rota", "09:15", "17:00")],
        "2024-03-05": [_SU, ("Vendor call", "10:00", "10:30"), ("Onboarding", "13:00", "16:00"),
                       ("Wrap-up", "16:00", "16:45")],
        "2024-03-06": [_SU, ("Design sync", "14:00", "15:00"), ("Lab time", "15:00", "17:00")],
        "2024-03-07": [_SU, ("Lab time", "13:00", "16:00")],
        "2024-03-08": [_SU, ("Planning", "11:00", "12:00"), ("Retro", "15:00", "16:00")],
    },
}


def _minutes(hhmm) -> int:
    text = str(hhmm).strip()
    try:
        h, m = text.split(":")
        value = int(h) * 60 + int(m)
    except ValueError:
        raise ValueError(f"time {hhmm!r} is not 'HH:MM'") from None
    if not (0 <= int(m) < 60 and 0 <= value <= 24 * 60):
        raise ValueError(f"time {hhmm!r} is out of range")
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class TeamCalendar:
    """Everyone's events for the planning week, plus meetings booked in this session."""

    def __init__(self) -> None:
        self.events = copy.deepcopy(EVENTS)

    def _person(self, person):
        for name in self.events:
            if name.lower() == str(person).strip().lower():
                return name
        raise KeyError(f"unknown person {person!r}; known: {', '.join(self.events)}")

    def _date(self, date):
        d = str(date).strip()
        if d not in WEEK:
            raise ValueError(f"date {date!r} is not in the planning week {WEEK[0]}..{WEEK[-1]}")
        return d

    def list_people(self):
        return list(self.events)

    def week_dates(self):
        return list(WEEK)

    def get_events(self, person, date):
        p, d = self._person(person), self._date(date)
        items = sorted(self.events[p].get(d, []), key=lambda e: (_minutes(e[1]), e[0]))
        return [{"title": t, "start": s, "end": e} for t, s, e in items]

    def free_slots(self, date, *people):
        d = self._date(date)
        if not people:
            raise TypeError("free_slots needs at least one person")
        busy = sorted((_minutes(s), _minutes(e)) for p in people
                      for _, s, e in self.events[self._person(p)].get(d, []))
        slots, cursor = [], _minutes(DAY_START)
        for start, end in busy:
            if start > cursor:
                slots.append([_hhmm(cursor), _hhmm(min(start, _minutes(DAY_END)))])
            cursor = max(cursor, end)
        if cursor < _minutes(DAY_END):
            slots.append([_hhmm(cursor), DAY_END])
        return [s for s in slots if s[0] < s[1]]

    def book_meeting(self, title, date, start, end, people):
        d = self._date(date)
        s, e = _minutes(start), _minutes(end)
        if e <= s:
            raise ValueError("end must be after start")
        if isinstance(people, str):
            people = [people]
        names = [self._person(p) for p in people]
        for name in names:
            for t, bs, be in self.events[name].get(d, []):
                if _minutes(bs) < e and s < _minutes(be):
                    raise ValueError(f"{name} is busy with {t!r} {bs}-{be} on {d}")
        for name in names:
            self.events[name].setdefault(d, []).append((str(title), _hhmm(s), _hhmm(e)))
        return f"EV-{d[5:7]}{d[8:10]}-{_hhmm(s).replace(':', '')}"


def minutes_between(start, end):
    return _minutes(end) - _minutes(start)


def make_tools() -> list[ToolSpec]:
    """A fresh team calendar and its tools, for one run."""
    c = TeamCalendar()
    return [
        ("list_people", c.list_people, "Names of everyone in the team.",
         "list_people() -> list of str"),
        ("week_dates", c.week_dates,
         "The five working days of the planning week, Monday first, as 'YYYY-MM-DD'.",
         "week_dates() -> list of str"),
        ("get_events", c.get_events,
         "One person's events on a date, sorted by start time. Each is a dict with title, "
         "start and end ('HH:MM', 24-hour clock).",
         "get_events(person: str, date: str) -> list of dict"),
        ("free_slots", c.free_slots,
         "Intervals on a date when ALL the given people are free, within working hours "
         "09:00-17:00, as [start, end] pairs of 'HH:MM' strings. Pass one or more names.",
         "free_slots(date: str, *people: str) -> list of [str, str]"),
        ("minutes_between", minutes_between,
         "Minutes from start to end, both 'HH:MM' on the same day.",
         "minutes_between(start: str, end: str) -> int"),
        ("book_meeting", c.book_meeting,
         "Book a meeting for the people on a date from start to end ('HH:MM'). Fails if "
         "anyone is busy then. Returns the new event's id.",
         "book_meeting(title: str, date: str, start: str, end: str, people: list of str) "
         "-> str"),
    ]


def load() -> list[Task]:
    tasks = [
        ("meeting-minutes", "How many minutes in total does Priya spend in meetings on "
         "2024-03-05?",
         """
         answer = sum(minutes_between(e["start"], e["end"])
                      for e in get_events("Priya", "2024-03-05"))
         """, {}),
        ("common-slot", "On 2024-03-06, what is the earliest time ('HH:MM') at which Priya, "
         "Tom and Ana can all start a 45-minute meeting together?",
         """
         answer = None
         for start, end in free_slots("2024-03-06", "Priya", "Tom", "Ana"):
             if minutes_between(start, end) >= 45:
                 answer = start
                 break
         """, {}),
        ("tom-longest-free", "On which date of the planning week does Tom have his longest "
         "single block of free time within working hours? Answer with the date "
         "(YYYY-MM-DD).",
         """
         longest = {}
         for d in week_dates():
             longest[d] = max(minutes_between(s, e) for s, e in free_slots(d, "Tom"))
         answer = max(longest, key=longest.get)
         """, {"unique": "longest"}),
        ("meeting-counts", "How many events does each person have over the whole planning "
         "week? Answer with a dict {name: count}.",
         """
         answer = {p: sum(len(get_events(p, d)) for d in week_dates()) for p in list_people()}
         """, {}),
        ("book-review", "Book a 30-minute meeting titled 'Design review' for Ana and Lee on "
         "the first day of the planning week on which they can both meet in the afternoon "
         "(starting at 13:00 or later), at the earliest such time. Answer with the event id "
         "that the booking returns.",
         """
         answer = None
         for d in week_dates():
             for start, end in free_slots(d, "Ana", "Lee"):
                 begin = max(start, "13:00")
                 if begin < end and minutes_between(begin, end) >= 30:
                     finish_min = minutes_between("00:00", begin) + 30
                     finish = f"{finish_min // 60:02d}:{finish_min % 60:02d}"
                     answer = book_meeting("Design review", d, begin, finish, ["Ana", "Lee"])
                     break
             if answer:
                 break
         """, {}),
        ("priya-double-booked", "Is Priya double-booked at any point in the planning week, "
         "that is, do any two of her events on the same day overlap in time? Answer true or "
         "false.",
         """
         answer = False
         for d in week_dates():
             events = get_events("Priya", d)
             for a, b in zip(events, events[1:]):
                 if b["start"] < a["end"]:
                     answer = True
         """, {}),
        ("lee-free-mornings", "On which dates of the planning week does Lee have no events "
         "starting before 12:00 other than the daily Standup? Answer with the list of dates "
         "in calendar order.",
         """
         answer = []
         for d in week_dates():
             morning = [e for e in get_events("Lee", d)
                        if e["start"] < "12:00" and e["title"] != "Standup"]
             if not morning:
                 answer.append(d)
         """, {}),
    ]
    return [make_task(DOMAIN, name, prompt, code, make_tools, **opts)
            for name, prompt, code, opts in tasks]
