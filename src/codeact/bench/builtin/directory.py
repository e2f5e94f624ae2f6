"""Domain ``directory``: a small company staff directory with an org chart."""

from __future__ import annotations

from codeact.bench.builtin._common import Toolbox, tasks_for, unique_best
from codeact.bench.task import Task

# name: (department, title, salary, start_year, manager)
_STAFF = {
    "Iris Vale": ("Executive", "CEO", 240000, 2009, None),
    "Omar Haddad": ("Engineering", "VP Engineering", 198000, 2011, "Iris Vale"),
    "Lena Fischer": ("Engineering", "Staff Engineer", 172000, 2013, "Omar Haddad"),
    "Raj Patel": ("Engineering", "Engineer", 131000, 2018, "Lena Fischer"),
    "Sofia Costa": ("Engineering", "Engineer", 127500, 2020, "Lena Fischer"),
    "Ben Okafor": ("Engineering", "Junior Engineer", 96000, 2023, "Raj Patel"),
    "Mei Tanaka": ("Sales", "Head of Sales", 165000, 2012, "Iris Vale"),
    "Carlos Ruiz": ("Sales", "Account Executive", 104000, 2016, "Mei Tanaka"),
    "Hanna Berg": ("Sales", "Account Executive", 99500, 2019, "Mei Tanaka"),
    "Yusuf Demir": ("Sales", "Sales Associate", 71000, 2022, "Carlos Ruiz"),
    "Grace Liu": ("Finance", "CFO", 205000, 2010, "Iris Vale"),
    "Tomas Novak": ("Finance", "Accountant", 88000, 2015, "Grace Liu"),
    "Aisha Bello": ("Finance", "Analyst", 92500, 2021, "Grace Liu"),
    "Pavel Ivanov": ("Support", "Support Lead", 83000, 2014, "Omar Haddad"),
    "Nora Quinn": ("Support", "Support Agent", 58000, 2022, "Pavel Ivanov"),
    "Liam Walsh": ("Support", "Support Agent", 61500, 2017, "Pavel Ivanov"),
}


def list_departments() -> list[str]:
    """Names of all departments, sorted."""
    return sorted({v[0] for v in _STAFF.values()})


def list_employees(department: str = "") -> list[str]:
    """Names of employees in `department` (all employees when empty), sorted."""
    d = department.strip().lower()
    return sorted(n for n, v in _STAFF.items() if not d or v[0].lower() == d)


def get_employee(name: str) -> dict:
    """A record for one employee: name, department, title, salary (USD per year),
    start_year and manager (None for the CEO)."""
    for n, (dept, title, salary, start, manager) in _STAFF.items():
        if n.lower() == name.strip().lower():
            return {"name": n, "department": dept, "title": title, "salary": salary,
                    "start_year": start, "manager": manager}
    raise KeyError(f"no employee named {name!r}")


def direct_reports(name: str) -> list[str]:
    """Names of the people who report directly to `name`, sorted."""
    key = get_employee(name)["name"]
    return sorted(n for n, v in _STAFF.items() if v[4] == key)


TOOLS = [list_departments, list_employees, get_employee, direct_reports]


def _all(t: Toolbox) -> list[dict]:
    return [t.get_employee(n) for n in t.list_employees()]


def _chain(t: Toolbox, name: str) -> list[str]:
    out = []
    manager = t.get_employee(name)["manager"]
    while manager:
        out.append(manager)
        manager = t.get_employee(manager)["manager"]
    return out


def _org_size(t: Toolbox, name: str) -> int:
    return sum(1 + _org_size(t, r) for r in t.direct_reports(name))


def _biggest_dept(t: Toolbox) -> str:
    return unique_best(t.list_departments(), key=lambda d: len(t.list_employees(d)),
                       largest=True)


def _avg(xs: list[float]) -> float:
    return round(sum(xs) / len(xs), 2)


SPECS = [
    ("salary", "What is Raj Patel's annual salary?",
     lambda t: t.get_employee("Raj Patel")["salary"]),
    ("manager", "Who is Nora Quinn's manager?", lambda t: t.get_employee("Nora Quinn")["manager"]),
    ("dept-count", "How many employees work in the Sales department?",
     lambda t: len(t.list_employees("Sales"))),
    ("avg-eng-salary", "What is the average salary in the Engineering department, rounded "
     "to 2 decimals?",
     lambda t: _avg([t.get_employee(n)["salary"] for n in t.list_employees("Engineering")])),
    ("top-earner-sales", "Who earns the most in the Sales department?",
     lambda t: unique_best(t.list_employees("Sales"), key=lambda n: t.get_employee(n)["salary"],
                           largest=True)),
    ("payroll", "What is the total annual payroll (sum of all salaries) of the company?",
     lambda t: sum(e["salary"] for e in _all(t))),
    ("chain", "List Ben Okafor's management chain: his manager, that person's manager, and so "
     "on up to the CEO. Answer with the list of names in that order.",
     lambda t: _chain(t, "Ben Okafor")),
    ("veterans", "How many employees started before 2015?",
     lambda t: sum(1 for e in _all(t) if e["start_year"] < 2015)),
    ("biggest-dept", "Which department has the most employees?", _biggest_dept),
    ("org-size", "How many people are in Omar Haddad's organisation (everyone who reports to "
     "him directly or indirectly)?", lambda t: _org_size(t, "Omar Haddad")),
    ("dept-payroll", "Give the total salary per department as a dict {department: total}.",
     lambda t: {d: sum(t.get_employee(n)["salary"] for n in t.list_employees(d))
                for d in t.list_departments()}),
    ("newest", "Who joined the company most recently? Answer with the name.",
     lambda t: unique_best(_all(t), key=lambda e: e["start_year"], largest=True)["name"]),
    ("raise-cost", "Everyone in Support gets a 7% raise. By how much does the annual payroll "
     "increase, in USD, rounded to 2 decimals?",
     lambda t: round(sum(t.get_employee(n)["salary"] for n in t.list_employees("Support"))
                     * 0.07, 2)),
    ("span", "Which manager has the most direct reports? Answer with the name.",
     lambda t: unique_best(t.list_employees(), key=lambda n: len(t.direct_reports(n)),
                           largest=True)),
    ("earns-more-than-manager", "Which employees earn more than 80% of their own manager's "
     "salary? Answer with the list of names sorted alphabetically.",
     lambda t: sorted(e["name"] for e in _all(t) if e["manager"]
                      and e["salary"] > 0.8 * t.get_employee(e["manager"])["salary"])),
    ("tenure", "As of 2025, what is the average tenure in years (2025 minus start year) of "
     "the Finance department? Round to 2 decimals.",
     lambda t: _avg([2025 - t.get_employee(n)["start_year"]
                     for n in t.list_employees("Finance")])),
]


def load() -> list[Task]:
    return tasks_for("directory", TOOLS, SPECS)
