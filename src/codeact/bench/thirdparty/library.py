"""Domain ``library``: a small lending library's catalogue, members' loans and fines."""

from __future__ import annotations

import datetime as dt

from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import ToolSpec, make_task

DOMAIN = "library"
TODAY = "2024-05-20"
FINE_PER_DAY, FINE_CAP = 0.25, 10.00

# id: (title, author, year, genre, copies owned)
BOOKS: dict[str, tuple[str, str, int, str, int]] = {
    "B01": ("The Hobbit", "J. R. R. Tolkien", 1937, "fantasy", 3),
    "B02": ("The Fellowship of the Ring", "J. R. R. Tolkien", 1954, "fantasy", 2),
    "B03": ("The Silmarillion", "J. R. R. Tolkien", 1977, "fantasy", 2),
    "B04": ("Murder on the Orient Express", "Agatha Christie", 1934, "mystery", 2),
    "B05": ("The Big Sleep", "Raymond Chandler", 1939, "mystery", 1),
    "B06": ("The Name of the Rose", "Umberto Eco", 1980, "mystery", 2),
    "B07": ("A Brief History of Time", "Stephen Hawking", 1988, "science", 2),
    "B08": ("The Selfish Gene", "Richard Dawkins", 1976, "science", 1),
    "B09": ("The Elegant Universe", "Brian Greene", 1999, "science", 1),
    "B10": ("Guns, Germs, and Steel", "Jared Diamond", 1997, "history", 2),
    "B11": ("SPQR", "Mary Beard", 2015, "history", 1),
    "B12": ("The Guns of August", "Barbara Tuchman", 1962, "history", 1),
    "B13": ("Harry Potter and the Philosopher's Stone", "J. K. Rowling", 1997, "fantasy", 4),
    "B14": ("The Colour of Magic", "Terry Pratchett", 1983, "fantasy", 2),
    "B15": ("Small Gods", "Terry Pratchett", 1992, "fantasy", 1),
    "B16": ("The Hound of the Baskervilles", "Arthur Conan Doyle", 1902, "mystery", 1),
    "B17": ("Pale Blue Dot", "Carl Sagan", 1994, "science", 1),
    "B18": ("The Wright Brothers", "David McCullough", 2015, "history", 1),
    "B19": ("Hogfather", "Terry Pratchett", 1996, "fantasy", 1),
}
# member: [(book id, due date)]
LOANS: dict[str, list[tuple[str, str]]] = {
    "M-101": [("B01", "2024-05-25"), ("B07", "2024-05-10")],
    "M-102": [("B08", "2024-05-30"), ("B09", "2024-05-28")],
    "M-103": [("B04", "2024-04-01"), ("B13", "2024-05-19")],
    "M-104": [("B02", "2024-05-14"), ("B03", "2024-05-02"), ("B17", "2024-05-21"),
              ("B11", "2024-05-20")],
    "M-105": [("B07", "2024-06-01"), ("B02", "2024-06-03"), ("B05", "2024-05-18")],
    "M-106": [("B13", "2024-06-10")],
}


def _book(book_id):
    key = str(book_id).strip().upper()
    if key not in BOOKS:
        raise KeyError(f"no book with id {book_id!r}")
    return key


def _date(text) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"date {text!r} is not YYYY-MM-DD") from None


def search_catalogue(query):
    q = str(query).strip().lower()
    if not q:
        raise ValueError("query must not be empty")
    return [b for b, (title, author, *_rest) in BOOKS.items()
            if q in title.lower() or q in author.lower()]


def book_details(book_id):
    title, author, year, genre, copies = BOOKS[_book(book_id)]
    return {"title": title, "author": author, "year": year, "genre": genre, "copies": copies}


def copies_available(book_id):
    key = _book(book_id)
    on_loan = sum(1 for loans in LOANS.values() for b, _ in loans if b == key)
    return BOOKS[key][4] - on_loan


def books_by_genre(genre):
    g = str(genre).strip().lower()
    return [b for b, info in BOOKS.items() if info[3] == g]


def member_ids():
    return list(LOANS)


def member_loans(member_id):
    key = str(member_id).strip().upper()
    if key not in LOANS:
        raise KeyError(f"no member with id {member_id!r}")
    return [{"book_id": b, "due": due} for b, due in LOANS[key]]


def overdue_fine(due_date):
    late = (_date(TODAY) - _date(due_date)).days
    return round(min(max(late, 0) * FINE_PER_DAY, FINE_CAP), 2)


def today():
    return TODAY


TOOLS: list[ToolSpec] = [
    ("search_catalogue", search_catalogue,
     "Ids of books whose title or author contains the query (case-insensitive).",
     "search_catalogue(query: str) -> list of str"),
    ("book_details", book_details,
     "A book's title, author, year of first publication, genre and the number of copies "
     "the library owns.",
     "book_details(book_id: str) -> dict"),
    ("copies_available", copies_available,
     "Copies of a book on the shelf right now (owned copies minus those on loan).",
     "copies_available(book_id: str) -> int"),
    ("books_by_genre", books_by_genre,
     "Ids of the books in a genre: 'fantasy', 'mystery', 'science' or 'history'.",
     "books_by_genre(genre) -> list"),
    ("member_ids", member_ids, "Ids of all members.", "member_ids() -> list of str"),
    ("member_loans", member_loans,
     "A member's current loans: a list of {book_id, due} with due as YYYY-MM-DD.",
     "member_loans(member_id: str) -> list of dict"),
    ("overdue_fine", overdue_fine,
     "The fine in EUR, as of today, for a loan due on due_date: 0.25 per day late, at most "
     "10.00; 0 when it is not late (a loan due today is not late).",
     "overdue_fine(due_date: str) -> number"),
    ("today", today, "Today's date as YYYY-MM-DD.", "today() -> str"),
]


def load() -> list[Task]:
    tasks = [
        ("member-fine", "What is the total fine in EUR that member M-104 owes today for "
         "overdue loans?",
         """
         answer = sum(overdue_fine(loan["due"]) for loan in member_loans("M-104"))
         """, {"tol": 0.01}),
        ("oldest-mystery", "What is the title of the oldest book (earliest year of "
         "publication) in the mystery genre?",
         """
         years = {book_details(b)["title"]: book_details(b)["year"]
                  for b in books_by_genre("mystery")}
         answer = min(years, key=years.get)
         """, {"unique": "years"}),
        ("tolkien-available", "Which books by Tolkien have at least one copy available "
         "right now? Answer with their titles sorted alphabetically.",
         """
         answer = sorted(book_details(b)["title"] for b in search_catalogue("Tolkien")
                         if copies_available(b) > 0)
         """, {}),
        ("overdue-members", "Which members have at least one overdue loan today? Answer "
         "with their member ids, in any order.",
         """
         answer = [m for m in member_ids()
                   if any(loan["due"] < today() for loan in member_loans(m))]
         """, {"unordered": True}),
        ("genre-copies", "How many copies does the library own in each genre? Answer with "
         "a dict {genre: copies}.",
         """
         answer = {}
         for g in ["fantasy", "mystery", "science", "history"]:
             answer[g] = sum(book_details(b)["copies"] for b in books_by_genre(g))
         """, {}),
        ("science-all-out", "Is every copy of every science book on loan right now? Answer "
         "true or false.",
         """
         answer = all(copies_available(b) == 0 for b in books_by_genre("science"))
         """, {}),
        ("nineties-authors", "How many different authors have a book in the catalogue first "
         "published in the 1990s (1990 to 1999)?",
         """
         authors = set()
         for g in ["fantasy", "mystery", "science", "history"]:
             for b in books_by_genre(g):
                 info = book_details(b)
                 if 1990 <= info["year"] <= 1999:
                     authors.add(info["author"])
         answer = len(authors)
         """, {}),
        ("top-borrower", "Which member has the most books on loan right now? Answer with the "
         "member id.",
         """
         counts = {m: len(member_loans(m)) for m in member_ids()}
         answer = max(counts, key=counts.get)
         """, {"unique": "counts"}),
    ]
    return [make_task(DOMAIN, name, prompt, code, TOOLS, **opts)
            for name, prompt, code, opts in tasks]
