"""The ollama engine: a small local model, through the official `ollama` client.

Small models often reply with JSON that is almost right, so every reply is checked
against the same schema the model was constrained with (plus what a schema cannot say:
dates that exist, no blank names), sent back with the exact problem for repair a few
times, and, if it still fails or the server does not answer, replaced by the fallback
engine's result for that batch alone, with a note saying why. A run never stops
because the model misbehaved; it stops only when `check()` finds no model at all.
"""

from __future__ import annotations

import calendar
import ipaddress
import json
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any

import httpx
import jsonschema
import ollama
from ollama._client import _parse_host  # the client's own reading of OLLAMA_HOST

from assistant.config import ReflectionSettings
from assistant.derived.proposals import FactCandidate, ThoughtCandidate
from assistant.errors import ConfigError, ModelError
from assistant.reflection import prompts
from assistant.reflection.engine import (
    CITATION,
    Answer,
    Engine,
    EpisodeView,
    Evidence,
    ModelCall,
    Reflection,
)
from policies.secrets import PLACEHOLDERS

logger = logging.getLogger(__name__)

_USER_WORDS = frozenset({"self", "user", "the user"})
_FIRST_PERSON = frozenset({"i", "me", "myself"})


def resolve_host(settings: ReflectionSettings) -> str:
    """The server URL: the setting, else OLLAMA_HOST, else 127.0.0.1:11434. A host that
    is not this machine is refused unless the user opted in, because the model would
    receive (redacted) memories."""
    env = os.environ.get("OLLAMA_HOST", "")
    host = _parse_host(settings.host or env)
    if settings.allow_remote_host or is_local(host):
        return host
    origin = "the [reflection] host setting" if settings.host else "OLLAMA_HOST"
    raise ConfigError(
        f"the Ollama host {host} (from {origin}) is not this machine: your memories "
        "(with secrets redacted) would leave the machine. To allow that, set "
        "`[reflection] allow_remote_host = true` in config.toml or "
        "SECONDSELF_REFLECTION_ALLOW_REMOTE_HOST=1; otherwise use a local server."
    )


def is_local(url: str) -> bool:
    """True when connecting to `url` cannot leave this machine."""
    name = (urllib.parse.urlsplit(url).hostname or "").rstrip(".")
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a host name could resolve anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # 0.0.0.0 is the usual OLLAMA_HOST of a server listening on every interface; a
    # client connecting to it reaches this machine.
    return address.is_loopback or address.is_unspecified


@dataclass(frozen=True)
class Problem:
    """What is wrong with a reply, where: `where` alone is safe to log (no content)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class _NoValidReply(Exception):
    """The model gave no usable reply; the caller falls back. Never leaves this module."""

    def __init__(self, reason: str, attempts: int = 0, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts  # 0: the server failed, not the reply
        self.where = where

    def note(self, subject: str, fallback: str, private: bool = False) -> str:
        """The user-facing note, or with `private` the log line (no reply content)."""
        if not self.attempts:
            return f"ollama: no reply for {subject} ({self.reason}); used {fallback}"
        reason = self.where if private else _shorten(self.reason, 240)
        return (
            f"ollama: reply for {subject} was not valid after {self.attempts} attempts "
            f"({reason}); used {fallback}"
        )


class OllamaEngine:
    """Reflection and answers by a local model; `fallback` covers each failed call.

    Without `client`, the engine makes one for the resolved host with the settings'
    timeout (and closes it in `close()`); a given client keeps its own timeout.
    """

    writes_answers = True

    def __init__(
        self,
        settings: ReflectionSettings,
        fallback: Engine,
        client: ollama.Client | None = None,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self.host = resolve_host(settings)  # refuses a remote host before any traffic
        self.name = f"ollama:{settings.model}"
        self._owns_client = client is None
        self._client = client or ollama.Client(host=self.host, timeout=settings.timeout)
        self._calls: list[ModelCall] = []

    def take_calls(self) -> list[ModelCall]:
        taken, self._calls = self._calls, []
        return taken + self.fallback.take_calls()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OllamaEngine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def check(self) -> None:
        """Fail before a run, with what to do, when there is no server or no model."""
        model, host = self.settings.model, self.host
        try:
            self._client.show(model)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelError(
                    f"model {model} is not available on {host}; pull it with `ollama pull {model}`"
                ) from None
            raise ModelError(f"the Ollama server at {host} failed: {exc}") from None
        except ConnectionError:
            raise ModelError(f"no Ollama server at {host}; start it with `ollama serve`") from None
        except httpx.TimeoutException:
            raise ModelError(
                f"the Ollama server at {host} did not answer within {self.settings.timeout:g} s"
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelError(f"{host} does not answer like an Ollama server ({exc})") from None

    # --- reflection --------------------------------------------------------------------

    def reflect(self, episodes: Sequence[EpisodeView]) -> Reflection:
        result = Reflection()
        size = max(1, self.settings.batch)
        for start in range(0, len(episodes), size):
            part = self._reflect_batch(episodes[start : start + size])
            result.facts.extend(part.facts)
            result.thoughts.extend(part.thoughts)
            result.notes.extend(part.notes)
        return result

    def _reflect_batch(self, batch: Sequence[EpisodeView]) -> Reflection:
        ids = [e.id for e in batch]
        nonce = prompts.new_nonce()
        messages = [
            {"role": "system", "content": prompts.reflect_system()},
            {"role": "user", "content": prompts.reflect_prompt(batch, nonce)},
        ]
        try:
            data = self._ask(messages, prompts.reflection_schema(ids), reflection_problems)
        except _NoValidReply as failure:
            note = self._fall_back(failure, _span(ids))
            reflection = self.fallback.reflect(batch)
            reflection.notes.insert(0, note)
            return reflection
        return to_reflection(data, batch)

    # --- answers -----------------------------------------------------------------------

    def answer(
        self, question: str, evidence: Sequence[Evidence], now: datetime | None = None
    ) -> Answer:
        if not evidence:  # nothing to rest an answer on: no model call can help
            return self.fallback.answer(question, evidence, now)
        refs = list(dict.fromkeys(e.ref for e in evidence))
        nonce = prompts.new_nonce()
        messages = [
            {"role": "system", "content": prompts.answer_system()},
            {"role": "user", "content": prompts.answer_prompt(question, evidence, nonce, now)},
        ]
        try:
            data = self._ask(
                messages,
                prompts.answer_schema(refs),
                lambda reply: answer_problems(reply, question, evidence),
            )
        except _NoValidReply as failure:
            note = self._fall_back(failure, "the question")
            answer = self.fallback.answer(question, evidence, now)
            answer.notes.insert(0, note)
            return answer
        citations = list(dict.fromkeys(data["citations"]))
        text = data["answer"].strip()
        statement = " ".join(CITATION.sub("", text).split()) or None
        return Answer(text, citations, self.name, statement=statement)

    # --- one exchange with the model ---------------------------------------------------

    def _ask(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        problems_of: Callable[[Any], list[Problem]],
    ) -> Any:
        """The first reply valid for `schema` and `problems_of`, repairing invalid ones:
        the model sees its reply and the exact problems, and tries again."""
        attempts = 1 + max(0, self.settings.retries)
        problems: list[Problem] = []
        for _ in range(attempts):
            content = self._chat(messages, schema)
            data, problems = check_reply(content, schema, problems_of)
            if not problems:
                return data
            messages.append({"role": "assistant", "content": content})
            messages.append({"role": "user", "content": prompts.repair_prompt(map(str, problems))})
        raise _NoValidReply(str(problems[0]), attempts, problems[0].where)

    def _chat(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
        sent = "\n".join(m["content"] for m in messages)
        redacted = {kind: n for kind, mark in PLACEHOLDERS.items() if (n := sent.count(mark))}
        self._calls.append(ModelCall(self.host, self.settings.model, len(sent), redacted))
        try:
            response = self._client.chat(
                model=self.settings.model,
                messages=messages,
                format=schema,
                options={"temperature": 0},
                stream=False,
            )
        except httpx.TimeoutException:
            raise _NoValidReply(f"no reply within {self.settings.timeout:g} s") from None
        except ollama.ResponseError as exc:
            raise _NoValidReply(f"the server failed: {exc}") from None
        except ConnectionError:
            raise _NoValidReply(f"no Ollama server at {self.host}") from None
        except httpx.HTTPError as exc:
            raise _NoValidReply(f"the connection failed: {exc}") from None
        except ValueError:  # a body the client cannot read as Ollama's
            raise _NoValidReply("the server's response was not Ollama's") from None
        return response.message.content or ""

    def _fall_back(self, failure: _NoValidReply, subject: str) -> str:
        logger.warning("%s", failure.note(subject, self.fallback.name, private=True))
        return failure.note(subject, self.fallback.name)


# --- checking and reading replies ---------------------------------------------------------


def check_reply(
    content: str, schema: dict[str, Any], problems_of: Callable[[Any], list[Problem]]
) -> tuple[Any, list[Problem]]:
    """The parsed reply and what is wrong with it (nothing: it is usable)."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        return None, [Problem("the reply", f"is not valid JSON ({exc.msg} at {where})")]
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: e.json_path)
    if errors:
        return None, [Problem(_path(e.json_path), e.message) for e in errors[:5]]
    return data, problems_of(data)


def reflection_problems(data: dict[str, Any]) -> list[Problem]:
    """What the schema cannot say about a reflection reply that passed it."""
    problems = []
    for i, fact in enumerate(data["facts"]):
        for key in ("person", "value"):
            if not fact[key].strip():
                problems.append(Problem(f"facts[{i}].{key}", "is blank"))
        when = fact["valid_from"]
        if when is not None and not _is_date(when):
            problems.append(Problem(f"facts[{i}].valid_from", f"{when!r} is not a real date"))
    for i, thought in enumerate(data["thoughts"]):
        if not thought["text"].strip():
            problems.append(Problem(f"thoughts[{i}].text", "is blank"))
    return problems


# What an answer must not make up: numbers (a time, an amount, a date) and names.
_CHECKED = re.compile(r"\d[\d.,:/-]*\d|\d|(?<![.!?]\s)(?<!^)\b[A-ZÀ-Þ][\w'’-]{2,}")
_CALENDAR_WORDS = frozenset(
    w.casefold() for w in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name)
)
_NOTHING = re.compile(r"\b(?:nothing|no\s+memory|not\s+(?:say|know|found|mention)|"
                      r"don'?t\s+know|unknown|cannot|can'?t)\b", re.IGNORECASE)  # fmt: skip


def answer_problems(
    data: dict[str, Any], question: str, evidence: Sequence[Evidence]
) -> list[Problem]:
    """A blank answer, or one that states what its citations do not: every number and
    name in it must be in a cited memory (its text, date or source) or the question.
    A model that makes up a time or a name is asked again, then replaced by the
    builtin engine's quotes."""
    answer = data["answer"].strip()
    if not answer:
        return [Problem("answer", "is blank")]
    cited = [e for e in evidence if e.ref in set(data["citations"])]
    if not cited:
        if _NOTHING.search(answer):
            return []  # "nothing in your memory says" needs no citation
        return [Problem("citations", "is empty: cite the memories the answer rests on")]
    known = " ".join([question, *(f"{e.text} {e.date} {e.source}" for e in cited)]).casefold()
    known_numbers = set(re.findall(r"\d+", known))
    unsupported = []
    for m in _CHECKED.finditer(CITATION.sub("", answer)):
        token = m.group().casefold().rstrip(".,:/-")
        if token in _CALENDAR_WORDS or token in known:
            continue
        if token[0].isdigit() and set(re.findall(r"\d+", token)) <= known_numbers:
            continue  # "14 March" from "2024-03-14", "10:40" from "10:40"
        unsupported.append(m.group())
    if unsupported:
        shown = ", ".join(dict.fromkeys(unsupported))
        return [Problem("answer", f"states {shown}, which no cited memory says")]
    return []


def to_reflection(data: dict[str, Any], batch: Sequence[EpisodeView]) -> Reflection:
    """Candidates from a valid reply; a first-person name becomes the episode's speaker."""
    speakers = {e.id: e.speaker for e in batch}
    days = {e.id: e.time.date().isoformat() for e in batch}
    facts = []
    for fact in data["facts"]:
        person = _person(fact["person"], speakers[fact["evidence"]])
        if person is None:  # "I" in a text with no known speaker is nobody we know
            continue
        facts.append(
            FactCandidate(
                person=person,
                attribute=fact["attribute"],
                value=" ".join(fact["value"].split()),
                valid_from=fact["valid_from"],
                evidence=fact["evidence"],
                confidence=float(fact["confidence"]),
            )
        )
    thoughts = [
        ThoughtCandidate(
            text=" ".join(t["text"].split()),
            derived_from=tuple(sorted(set(t["derived_from"]))),
            subject=_person(t["subject"], "") if t["subject"] else None,
            time=max(days[i] for i in t["derived_from"]),  # as of its latest evidence
        )
        for t in data["thoughts"]
    ]
    return Reflection(facts=facts, thoughts=thoughts)


def _person(name: str, speaker: str) -> str | None:
    """'self' for the user, the speaker for "I", else the name as written (tidied)."""
    tidy = " ".join(name.split())
    key = tidy.casefold()
    if key in _USER_WORDS:
        return "self"
    if key in _FIRST_PERSON:
        return speaker or None
    return tidy or None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _path(json_path: str) -> str:
    """'$.facts[0].attribute' -> 'facts[0].attribute'; the root is 'the reply'."""
    return json_path.removeprefix("$").removeprefix(".") or "the reply"


def _span(ids: Sequence[int]) -> str:
    if len(ids) == 1:
        return f"episode {ids[0]}"
    return f"episodes {min(ids)}-{max(ids)}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
