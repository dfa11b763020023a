"""Which message templates exist, found without loading the template engine.

A rule config names templates, and every command that loads it checks those names; for
a command that renders nothing (`dondoc preview`) importing Jinja only to list files
would be a tenth of its start-up. The files are found as Jinja's FileSystemLoader lists
them (`Renderer` loads them from the same folders).
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED_TEMPLATES = Path(__file__).with_name("templates")
LOCALES = ("vi", "en")


def search_path(templates_dir: Path | None) -> list[str]:
    """The template folders, an office's own first: its files override the bundled ones."""
    found = [str(BUNDLED_TEMPLATES)]
    if templates_dir is not None:
        found.insert(0, str(templates_dir))
    return found


def available_templates(templates_dir: Path | None = None) -> set[str]:
    """Template names that exist in every locale (what a rule config may reference)."""
    names: list[set[str]] = []
    for locale in LOCALES:
        found: set[str] = set()
        for folder in search_path(templates_dir):
            # As FileSystemLoader.list_templates walks: symbolic links to folders are
            # not followed.
            for directory, _subfolders, files in os.walk(os.path.join(folder, locale)):
                relative = Path(directory).relative_to(os.path.join(folder, locale))
                found.update(
                    (relative / file).as_posix().removesuffix(".j2")
                    for file in files
                    if file.endswith(".j2")
                )
        names.append({name for name in found if not name.startswith("_")})
    return set.intersection(*names) - {"chat"}
