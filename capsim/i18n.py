"""Words shown to students, in English and Simplified Chinese.

The course is taught in Chinese; every label a table or plot shows goes
through :func:`tr` so ``--lang zh`` changes them all at once.
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

LANGS = ("en", "zh")
_LOCALE_DIR = Path(__file__).parent / "locale"
_GETTEXT_LANG = {"zh": "zh_CN"}

_WORDS: dict[str, dict[str, str]] = {
    "policy": {"en": "policy", "zh": "策略"},
    "ops": {"en": "operations", "zh": "操作数"},
    "ok/fail/info": {"en": "ok / fail / info", "zh": "成功 / 失败 / 未知"},
    "availability": {"en": "availability", "zh": "可用性"},
    "availability during partition": {"en": "  during partition", "zh": "  分区期间"},
    "availability outside partition": {"en": "  outside partition", "zh": "  分区之外"},
    "linearizable": {"en": "linearizable", "zh": "线性一致"},
    "stale reads": {"en": "stale reads", "zh": "陈旧读"},
    "p99 latency": {"en": "p99 latency", "zh": "p99 延迟"},
    "convergence": {"en": "convergence after heal", "zh": "恢复后收敛"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "never": {"en": "never", "zh": "未收敛"},
    "n/a": {"en": "n/a", "zh": "无"},
    "consistency": {"en": "consistency", "zh": "一致性"},
    "partition tolerance": {"en": "partition tolerance", "zh": "分区容错"},
    "partitioned": {"en": "partitioned", "zh": "分区"},
    "down": {"en": "down", "zh": "宕机"},
    "time (s)": {"en": "time (s)", "zh": "时间 (秒)"},
    "stale": {"en": "stale", "zh": "陈旧"},
    "ok": {"en": "ok", "zh": "成功"},
    "fail": {"en": "fail", "zh": "失败"},
    "info": {"en": "info (unknown)", "zh": "未知 (超时)"},
    "violation": {"en": "not linearizable", "zh": "违反线性一致"},
    "read": {"en": "read", "zh": "读"},
    "write": {"en": "write", "zh": "写"},
    "cas": {"en": "cas", "zh": "比较并交换"},
    "run": {"en": "run", "zh": "运行"},
    "story": {"en": "what happened", "zh": "过程"},
}


def tr(key: str, lang: str = "en") -> str:
    """The word for ``key`` in ``lang``; English (or the key) when missing."""
    entry = _WORDS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def add_words(words: dict[str, dict[str, str]]) -> None:
    """Let a module (plots, lab) register its own labels."""
    for k, v in words.items():
        _WORDS.setdefault(k, {}).update(v)


def resolve_lang(lang: str | None = None) -> str:
    """The language to speak: the argument, else ``CAPSIM_LANG``, else the locale.

    Only ``en`` and ``zh`` exist; anything else (``fr``, an empty string) is
    English, so a student's odd locale never breaks a command.
    """
    if lang is None:
        lang = os.environ.get("CAPSIM_LANG") or ""
        if not lang:
            for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
                if os.environ.get(var):
                    lang = os.environ[var]
                    break
    lang = lang.lower()
    return "zh" if lang.startswith("zh") else "en"


@functools.cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue (``locale/<ll_CC>/LC_MESSAGES/capsim.mo``) of ``lang``."""
    code = _GETTEXT_LANG.get(lang)
    if code is None:
        return gettext.NullTranslations()
    return gettext.translation(
        "capsim", localedir=_LOCALE_DIR, languages=[code], fallback=True
    )


def t(msgid: str, lang: str | None = None, /, **fields: object) -> str:
    """One user-facing sentence in the reader's language, with ``{fields}`` filled in.

    ``msgid`` is the English sentence itself (gettext style), so code reads
    naturally and a missing translation degrades to English, never to a key.
    Chinese lives in ``capsim/locale/zh_CN/LC_MESSAGES/capsim.po``; after
    editing it run ``pybabel compile -D capsim -d capsim/locale``.
    """
    text = _catalogue(resolve_lang(lang)).gettext(msgid)
    return text.format(**fields) if fields else text
