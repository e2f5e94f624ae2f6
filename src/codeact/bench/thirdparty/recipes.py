"""Domain ``recipes``: a recipe book with per-ingredient nutrition facts and shop prices."""

from __future__ import annotations

from codeact.bench.task import Task
from codeact.bench.thirdparty._spec import ToolSpec, make_task

DOMAIN = "recipes"

# ingredient: (kcal, protein g, fat g, carbs g) per 100 g, and price in EUR per kg
INGREDIENTS: dict[str, tuple[float, float, float, float, float]] = {
    "red lentils": (358, 24.6, 2.2, 60.1, 3.20),
    "onion": (40, 1.1, 0.1, 9.3, 1.50),
    "carrot": (41, 0.9, 0.2, 9.6, 1.20),
    "olive oil": (884, 0.0, 100.0, 0.0, 9.80),
    "vegetable stock": (5, 0.2, 0.2, 0.5, 2.00),
    "chickpeas": (164, 8.9, 2.6, 27.4, 2.80),
    "coconut milk": (197, 2.0, 21.0, 2.8, 4.50),
    "tomato": (18, 0.9, 0.2, 3.9, 2.90),
    "spaghetti": (371, 13.0, 1.5, 75.0, 1.90),
    "parmesan": (431, 38.0, 29.0, 4.1, 22.00),
    "flour": (364, 10.3, 1.0, 76.3, 0.90),
    "egg": (143, 12.6, 9.5, 0.7, 4.20),
    "milk": (64, 3.3, 3.6, 4.8, 1.10),
    "butter": (717, 0.9, 81.0, 0.1, 9.50),
    "sugar": (387, 0.0, 0.0, 100.0, 1.10),
    "rice": (360, 6.6, 0.6, 79.0, 2.10),
    "chicken breast": (165, 31.0, 3.6, 0.0, 9.90),
    "spinach": (23, 2.9, 0.4, 3.6, 6.00),
    "oats": (389, 16.9, 6.9, 66.3, 1.60),
    "banana": (89, 1.1, 0.3, 22.8, 1.80),
}
# recipe: (servings, {ingredient: grams for the whole dish})
RECIPES: dict[str, tuple[int, dict[str, float]]] = {
    "lentil soup": (4, {"red lentils": 250, "onion": 150, "carrot": 250, "olive oil": 30,
                        "vegetable stock": 1000}),
    "chickpea curry": (4, {"chickpeas": 480, "coconut milk": 400, "tomato": 400,
                           "onion": 150, "olive oil": 20, "rice": 300, "spinach": 100}),
    "tomato pasta": (3, {"spaghetti": 300, "tomato": 500, "olive oil": 40, "onion": 100,
                         "parmesan": 45}),
    "pancakes": (4, {"flour": 250, "egg": 100, "milk": 500, "butter": 40, "sugar": 30}),
    "chicken rice bowl": (2, {"chicken breast": 300, "rice": 180, "spinach": 120,
                              "olive oil": 15}),
    "overnight oats": (2, {"oats": 120, "milk": 300, "banana": 150, "sugar": 10}),
}


def _recipe(name):
    key = str(name).strip().lower()
    if key not in RECIPES:
        raise KeyError(f"no recipe named {name!r}; see list_recipes()")
    return RECIPES[key]


def _ingredient(name):
    key = str(name).strip().lower()
    if key not in INGREDIENTS:
        raise KeyError(f"unknown ingredient {name!r}")
    return INGREDIENTS[key]


def list_recipes():
    return list(RECIPES)


def get_recipe(name):
    return {k: float(v) for k, v in _recipe(name)[1].items()}


def recipe_servings(name):
    return _recipe(name)[0]


def nutrients(ingredient):
    kcal, protein, fat, carbs, _price = _ingredient(ingredient)
    return {"kcal": float(kcal), "protein": protein, "fat": fat, "carbs": carbs}


def price_per_kg(ingredient):
    return _ingredient(ingredient)[4]


def scale_amount(grams, factor):
    return int(round(float(grams) * float(factor)))


def sum_values(*values):
    return float(sum(float(v) for v in values))


TOOLS: list[ToolSpec] = [
    ("list_recipes", list_recipes, "Names of all recipes in the book.",
     "list_recipes() -> list of str"),
    ("get_recipe", get_recipe,
     "A recipe's ingredients for the whole dish, as {ingredient: grams}.",
     "get_recipe(name: str) -> dict[str, float]"),
    ("recipe_servings", recipe_servings, "How many servings the whole dish makes.",
     "recipe_servings(name: str) -> int"),
    ("nutrients", nutrients,
     "Nutrition facts per 100 g of an ingredient: {'kcal', 'protein', 'fat', 'carbs'} "
     "(protein, fat and carbs in grams).",
     "nutrients(ingredient: str) -> dict"),
    ("price_per_kg", price_per_kg, "Shop price of an ingredient, in EUR per kilogram.",
     "price_per_kg(ingredient: str) -> int/float"),
    ("scale_amount", scale_amount,
     "A quantity in grams multiplied by a factor, rounded to the nearest whole gram.",
     "scale_amount(grams: float, factor: float) -> int"),
    ("sum_values", sum_values, "The sum of any number of numbers.",
     "sum_values(*values: float) -> float"),
]


def load() -> list[Task]:
    tasks = [
        ("soup-kcal", "How many kcal are in one serving of 'lentil soup'? Round to one "
         "decimal.",
         """
         total = 0
         for ing, grams in get_recipe("lentil soup").items():
             total += nutrients(ing)["kcal"] * grams / 100
         answer = round(total / recipe_servings("lentil soup"), 1)
         """, {"tol": 0.1}),
        ("most-protein", "Which recipe gives the most protein per serving? Answer with the "
         "recipe name.",
         """
         protein = {}
         for r in list_recipes():
             grams = sum(nutrients(i)["protein"] * g / 100 for i, g in get_recipe(r).items())
             protein[r] = grams / recipe_servings(r)
         answer = max(protein, key=protein.get)
         """, {"unique": "protein"}),
        ("pancake-cost", "What do the ingredients for the whole 'pancakes' recipe cost in "
         "EUR, at the shop prices? Round to 2 decimals.",
         """
         costs = [price_per_kg(i) * g / 1000 for i, g in get_recipe("pancakes").items()]
         answer = round(sum_values(*costs), 2)
         """, {"tol": 0.01}),
        ("scale-pasta", "Scale 'tomato pasta' from its own number of servings to 10 "
         "servings, rounding each amount with scale_amount. Answer with a dict "
         "{ingredient: grams}.",
         """
         factor = 10 / recipe_servings("tomato pasta")
         answer = {i: scale_amount(g, factor) for i, g in get_recipe("tomato pasta").items()}
         """, {}),
        ("light-recipes", "Which recipes have fewer than 500 kcal per serving? Answer with "
         "their names, in any order.",
         """
         answer = []
         for r in list_recipes():
             kcal = sum(nutrients(i)["kcal"] * g / 100 for i, g in get_recipe(r).items())
             if kcal / recipe_servings(r) < 500:
                 answer.append(r)
         """, {"unordered": True}),
        ("curry-fat-order", "List the ingredients of 'chickpea curry' ordered by the grams "
         "of fat each contributes to the whole dish, most fat first.",
         """
         fat = {i: nutrients(i)["fat"] * g / 100
                for i, g in get_recipe("chickpea curry").items()}
         answer = sorted(fat, key=fat.get, reverse=True)
         """, {}),
        ("pancakes-fattier", "Does one serving of 'pancakes' contain more fat than one "
         "serving of 'chickpea curry'? Answer true or false.",
         """
         def fat_per_serving(r):
             total = sum(nutrients(i)["fat"] * g / 100 for i, g in get_recipe(r).items())
             return total / recipe_servings(r)
         answer = fat_per_serving("pancakes") > fat_per_serving("chickpea curry")
         """, {}),
    ]
    return [make_task(DOMAIN, name, prompt, code, TOOLS, **opts)
            for name, prompt, code, opts in tasks]
