"""checker/__init__.py states the public API: every name in ``__all__`` resolves to the object of the
module that defines it, loads only when asked for, and the docstring's example runs."""

from __future__ import annotations

import importlib
import subprocess
import sys

import checker


def test_every_public_name_resolves_to_its_module_object():
    for name in checker.__all__:
        module = importlib.import_module(checker._EXPORTS[name])
        assert getattr(checker, name) is getattr(module, name)


def test_a_small_module_does_not_load_the_registry():
    code = "import sys, checker.textio; print('checker.registry' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_docstring_example(tmp_path, seed_suspects):
    from checker import ArticleIn, Registry, Settings

    with Registry(Settings.from_env({}, data_dir=tmp_path)) as registry:
        original = seed_suspects["full-copy"]["text"]
        registry.register_many([ArticleIn(title="Original", text=original)], skip_existing=True)
        result = registry.scan(original)
        assert result.to_dict()["matches"][0]["article"]["title"] == "Original"


def test_all_lists_exactly_the_exports():
    assert sorted(checker.__all__) == sorted(checker._EXPORTS)
