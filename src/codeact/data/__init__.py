"""CodeActInstruct-style training data: generated tasks with checkable answers, teacher
trajectory collection through the real agent loop, filters, export and import.

Modules, one job each: ``generators`` (base class and registry) with the families
``gen_math``, ``gen_files``, ``gen_coding``, ``gen_tools``; ``sources`` (extra JSONL and
``datasets`` sources); ``checkers`` (named answer checkers); ``decontam`` (13-gram overlap
with every registered evaluation suite); ``prompt`` (which system prompt a record used);
``collect`` (runs the teacher); ``filters``; ``export``; ``importer``; ``tokens``;
``card`` (the dataset card); ``stats`` and ``show`` (looking at data); ``cli``.
"""
