"""Words shown to students, in English and Simplified Chinese.

The course is taught in Chinese; every label a table or plot shows goes
through :func:`tr` so ``--lang zh`` changes them all at once.
"""

from __future__ import annotations

LANGS = ("en", "zh")

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
