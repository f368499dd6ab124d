"""Every word the report page shows, in every language capsim speaks.

Labels shared with the PNGs come from :func:`capsim.i18n.tr` (the same keys
the plots use, so "stale read" reads the same in both); sentences new to the
page go through the gettext catalogue with :func:`capsim.i18n.t`. Both
languages are embedded, so the page can switch language without a network.
``{fields}`` stay in the text; the page fills them in.
"""

from __future__ import annotations

from capsim.i18n import LANGS, t, tr

#: Page word -> the plots' label key (capsim.i18n.tr / capsim.plot.style).
SHARED: dict[str, str] = {
    "replicas": "plot.replicas",
    "clients": "plot.clients",
    "faults": "plot.network",
    "partitioned": "plot.partitioned",
    "cut": "plot.cut",
    "down": "plot.down",
    "converged": "plot.converged",
    "breaks_here": "plot.breaks here",
    "refused": "plot.refused",
    "no_answer": "plot.no answer",
    "legend_ok": "plot.legend ok",
    "legend_fail": "plot.legend fail",
    "legend_info": "plot.legend info",
    "legend_stale": "plot.legend stale",
    "legend_violation": "plot.legend violation",
    "legend_partition": "plot.legend partition",
    "legend_crash": "plot.legend crash",
    "value": "plot.value",
    "messages": "plot.messages",
    "delivered": "plot.delivered",
    "lost": "plot.lost",
    "cut_msg": "plot.cut msg",
    "down_msg": "plot.down msg",
    "compare": "plot.compare",
    "keys_shown": "plot.keys shown",
    "time": "time (s)",
    "read": "read",
    "write": "write",
    "cas": "cas",
    "stale": "stale",
    "ok": "ok",
    "fail": "fail",
    "info": "info",
    "policy": "policy",
    "linearizable": "linearizable",
}

#: Page word -> English sentence (a msgid of the catalogue).
SENTENCES: dict[str, str] = {
    "title": "capsim report",
    "jump": "Jump to first violation",
    "show_messages": "Show messages",
    "messages_cut": ("{policy}: the first {shown} of {total} messages (sent up to t = {time}); "
                     "every message is in messages.jsonl"),
    "zoom_in": "Zoom in",
    "zoom_out": "Zoom out",
    "zoom_all": "Whole run",
    "scrub_help": "Drag the slider, or press ← and → to step from event to event.",
    "at_time": "At t = {time}",
    "in_flight": "Messages in flight",
    "faults_now": "Faults in force",
    "none": "none",
    "checks": "Checks",
    "invoked": "Invoked at {time}",
    "completed": "Answered at {time}",
    "gave_up": "Client gave up at {time}",
    "unanswered": "No answer before the run ended",
    "error": "Error: {error}",
    "value_is": "Value: {value}",
    "written_by": "Written by {client} at {time}",
    "initial_value": "The initial value",
    "holds": "{node} holds {value} from {start} to {end}",
    "msg_sent": "Sent at {time}",
    "msg_end": "{status} at {time}",
    "click_hint": "Click an operation to see the checker's verdict on it.",
    "no_violation": "No linearizability violation in this run.",
    "involved": "Operations in the violation",
    "missed": "acknowledged write → read that missed it",
    "language": "Language",
    "explore": "Explored counterexample",
    "steps": "Steps",
    "initial_state": "Initial state",
    "state_after": "State after step {n}: {label}",
    "what_else": "What else could happen here",
    "not_exported": "(not exported: the search stopped here)",
    "on_path": "(the counterexample's next step)",
    "back": "Back to the counterexample",
    "client_state": "Clients",
    "no_enabled": "Nothing else can happen: every request is answered and no message is left.",
    "share": "Link to this state: copy the address bar.",
    "stale_because": "This read returned a value older than one already acknowledged.",
    "key": "Key",
}


def words() -> dict[str, dict[str, str]]:
    """``{lang: {word: text}}`` for every language, ready to embed in the page."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        d = {k: tr(key, lang) for k, key in SHARED.items()}
        d.update({k: t(msg, lang) for k, msg in SENTENCES.items()})
        out[lang] = d
    return out
