"""capture_confirmation: a yes or a no from a transcript.

Rules
-----
* Signals are words and phrases per language, longest first: particles ("yes", "yeah",
  "nope", "sí", "claro", "ouais", "nee"...) and evaluations ("correct", "that's right",
  "that's wrong", "exacto", "c'est ça", "stimmt", "falsch"...).
* A positive evaluation negated within the same clause turns into a no: a negator up to
  three words before ("not correct", "no es correcto", "c'est pas ça", "ist nicht richtig")
  or, in German, up to two words after ("stimmt nicht").
* Self-corrections ("actually", "no wait", "I mean", "perdón", "enfin", "ich meine") split
  the answer; the last segment with a signal decides ("yes... actually no" is no). A bare
  "no" is never a correction marker here: it is the answer.
* After a leading "no" (the segment's first signal), a yes followed by other words in its
  clause is part of a correction, not an answer: "no, the correct address is jane at
  example dot com", "nein, richtig ist …", "no, eso es …" are a no ("no, that's right" and
  "no, that's right, thank you" stay a yes at low confidence). Words of a value right
  after a leading "no" make the whole segment a no, whatever later words sound like a yes:
  Whisper heard "no, it's sarah two at yahoo dot com" as "No, it's Sarah to it. Yeah, you
  dot com." ("no, it's fine" keeps its low-confidence yes: "it", "is" name no value).
* "It is" answers only when it ends its clause ("yes it is", "it is."). Followed by more
  words it introduces a value, so "no, it's jane at example dot com" is a no with a
  correction, not a "no" overruled by a "yes" ("it's not john" still answers no).
* Inside the deciding segment an evaluation outranks a particle, so "no, that's right"
  (the "no" being a discourse marker) is yes, and "yeah, no, that's wrong" is no; when
  signals disagree like this the answer is kept but at low confidence.
* No answer (None): no signal; hesitation in the deciding segment ("I don't know", "maybe",
  "no sé", "peut-être", "weiß nicht"); or a question back (the deciding clause ends with "?"
  or opens like one: "is that right", "can you repeat", "¿qué?", "wie bitte").

Confidence: the signal's own (0.95 explicit "yes"/"correct", 0.9 casual "yeah"/"nope",
0.85 "okay" or a negated evaluation, 0.6–0.7 hedged "I think so"); 0.6 when signals
disagree. needs_confirmation when < 0.85, i.e. the agent should ask again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from schemas.payloads import CaptureResult, Language

from .common import build_result, check_language, check_transcript
from .text import find_phrases, phrase_table, prepare, split_corrections, tokenize


class _Signal(NamedTuple):
    answer: str  # "yes" | "no" | "" (hesitation)
    confidence: float
    evaluation: bool = False
    opens_value: bool = False
    """Words no signal covers follow it in its clause ("correct" in "the correct address is
    jane@x.com"): after a leading no, such a yes is part of the correction, not an answer."""


def _entries(spec: str) -> list[tuple[str, str]]:
    """Split "yes:.95|yeah:.9" into [("yes", ".95"), ("yeah", ".9")]."""
    pairs = (entry.strip().partition(":") for entry in spec.split("|"))
    return [(phrase, score) for phrase, _, score in pairs if phrase]


def _signals(
    yes: str, no: str, yes_eval: str, no_eval: str, unsure: str, hedged: str
) -> dict[str, _Signal]:
    """One language's table. Hedged entries carry their answer as a sign: "i think so:+.65"."""
    table: dict[str, _Signal] = {}
    groups = (
        ("yes", yes, False), ("no", no, False), ("yes", yes_eval, True), ("no", no_eval, True)
    )
    for answer, spec, evaluation in groups:
        for phrase, score in _entries(spec):
            table[phrase] = _Signal(answer, float(score), evaluation)
    for phrase, _ in _entries(unsure):
        table[phrase] = _Signal("", 0.0)
    for phrase, score in _entries(hedged):
        table[phrase] = _Signal("yes" if score.startswith("+") else "no", abs(float(score)))
    return table


_SPECS: dict[Language, tuple[str, str, str, str, str, str]] = {
        "en": (
            "yes:.95|yes please:.95|yeah:.9|yea:.9|yep:.9|yup:.9|ya:.85|sure:.9|of course:.95|"
            "absolutely:.95|definitely:.95|certainly:.95|indeed:.9|go ahead:.9|please do:.9|"
            "ok:.85|okay:.85|alright:.85|all right:.85|"
            "affirmative:.95|uh huh:.8|mhm:.8|mm hmm:.8|you bet:.9|for sure:.9|totally:.9|"
            "i do:.9|no problem:.85|yes sir:.95|yes maam:.95|it is:.85|do it:.85",
            "no:.95|nope:.9|nah:.9|no thanks:.9|no thank you:.9|negative:.9|absolutely not:.95|"
            "definitely not:.95|of course not:.95|certainly not:.95|not at all:.95|no way:.9|"
            "not really:.85|i do not:.9|please do not:.9|do not:.85|never:.85|it is not:.85",
            "correct:.95|right:.85|that is right:.95|exactly:.95|that is it:.9|spot on:.9|"
            "accurate:.9|that is the one:.9|you got it:.9|sounds good:.9|perfect:.9|great:.85|"
            "that works:.9|fine:.85|that is fine:.85|good:.85",
            "wrong:.95|incorrect:.95|not quite:.85|not exactly:.8|that is not it:.9|"
            "mistake:.8|that is not right:.9|that is not what i said:.9|not what i said:.9",
            "i do not know|do not know|dunno|no idea|not sure|i am not sure|maybe|perhaps|"
            "possibly|not certain|i can not remember|i do not remember|let me check|never mind|"
            "hold on|yes and no|correct me if i am wrong|not sure if that is right",
            "i think so:+.65|i guess so:+.6|i believe so:+.7|probably:+.6|i guess:+.6|"
            "i suppose:+.6|i suppose so:+.6|"
            "i do not think so:-.7|probably not:-.6|i guess not:-.6|i think not:-.65",
        ),
        "es": (
            "si:.95|claro:.95|claro que si:.95|por supuesto:.95|vale:.9|de acuerdo:.9|dale:.85|"
            "efectivamente:.95|afirmativo:.95|okay:.85|ok:.85|perfecto:.9|sip:.9|sii:.9|"
            "como no:.9|no hay problema:.85|sin problema:.85|bueno:.8|adelante:.9|andale:.85|"
            "simon:.85|aja:.8",
            "no:.95|nop:.9|para nada:.95|claro que no:.95|por supuesto que no:.95|negativo:.9|"
            "de ninguna manera:.95|no gracias:.9|nunca:.85|tampoco:.8|nel:.85",
            "correcto:.95|exacto:.95|exactamente:.95|eso es:.95|asi es:.95|esta bien:.9|"
            "es correcto:.95|eso mero:.9|justo:.85|cierto:.9",
            "incorrecto:.95|esta mal:.95|no es asi:.9|no exactamente:.8|equivocado:.9|"
            "falso:.9|no es eso:.9",
            "no se|no lo se|quizas|quiza|tal vez|a lo mejor|puede ser|ni idea|no estoy seguro|"
            "si y no|mas o menos|"
            "no estoy segura|no me acuerdo|no recuerdo",
            "creo que si:+.65|supongo que si:+.6|creo que no:-.7|supongo que no:-.6",
        ),
        "fr": (
            "oui:.95|ouais:.9|ouai:.9|si:.9|d accord:.9|ok:.85|okay:.85|bien sur:.95|"
            "absolument:.95|tout a fait:.95|carrement:.9|parfait:.9|volontiers:.9|"
            "allez y:.85|vas y:.85|pas de probleme:.85|pas de souci:.85|oui oui:.95|ouep:.9|"
            "evidemment:.95|certainement:.95",
            "non:.95|nan:.9|absolument pas:.95|pas du tout:.95|certainement pas:.95|"
            "bien sur que non:.95|jamais:.85|non merci:.9|surtout pas:.9",
            "exact:.95|exactement:.95|correct:.95|c est ca:.95|c est bien ca:.95|c est bon:.9|"
            "c est juste:.95|juste:.85|c est exact:.95|c est correct:.95|voila:.9",
            "faux:.95|c est faux:.95|incorrect:.95|c est pas ca:.9|ce n est pas ca:.9|"
            "pas vraiment:.85|pas tout a fait:.85|pas exactement:.8|ce n est pas ca du tout:.95",
            "je sais pas|je ne sais pas|sais pas|chais pas|peut etre|aucune idee|"
            "je ne suis pas sur|je suis pas sur|je ne suis pas sure|je me souviens plus",
            "je pense:+.6|je crois:+.6|je pense que oui:+.65|je crois que oui:+.65|"
            "je pense pas:-.7|je ne pense pas:-.7|je crois pas:-.7|je ne crois pas:-.7",
        ),
        "de": (
            "ja:.95|jawohl:.95|jap:.9|jep:.9|jo:.9|jupp:.9|ja ja:.9|klar:.9|na klar:.9|"
            "sicher:.9|naturlich:.95|auf jeden fall:.95|gerne:.9|gern:.9|doch:.9|okay:.85|"
            "ok:.85|in ordnung:.9|alles klar:.9|einverstanden:.9|"
            "kein problem:.85|selbstverstandlich:.95|bitte:.8",
            "nein:.95|nee:.9|ne:.8|no:.85|auf keinen fall:.95|keinesfalls:.95|"
            "naturlich nicht:.95|gar nicht:.9|nein danke:.9|niemals:.9|lieber nicht:.85",
            "genau:.95|richtig:.95|korrekt:.95|stimmt:.95|das stimmt:.95|stimmt so:.95|"
            "passt:.9|exakt:.95|ganz genau:.95|das ist richtig:.95|so ist es:.9|sehr gut:.85|"
            "gut:.8|perfekt:.9",
            "falsch:.95|das ist falsch:.95|nicht ganz:.85|nicht wirklich:.85|"
            "nicht so ganz:.85|inkorrekt:.95",
            "weiss nicht|ich weiss nicht|weiss ich nicht|keine ahnung|vielleicht|kann sein|"
            "bin mir nicht sicher|nicht sicher|ich bin nicht sicher|jein",
            "ich glaube schon:+.65|ich denke schon:+.65|glaube schon:+.65|ich glaube:+.6|"
            "ich glaube nicht:-.7|ich denke nicht:-.7|glaube nicht:-.7",
        ),
    }
_TABLES = {lang: phrase_table(_signals(*spec)) for lang, spec in _SPECS.items()}

_NEGATORS: dict[Language, frozenset[str]] = {
    "en": frozenset({"not", "never"}),
    "es": frozenset({"no", "nunca"}),
    "fr": frozenset({"pas", "ne", "n", "jamais"}),
    "de": frozenset({"nicht", "kein", "keine"}),
}
_QUESTION_OPENERS: dict[Language, tuple[str, ...]] = {
    "en": ("is that", "is it", "was that", "are you", "did you", "do you", "can you",
           "could you", "would you", "what", "which", "say that again", "come again",
           "repeat", "pardon"),
    # Not a bare "que"/"como": "¡que sí!" and "¡cómo no!" are answers.
    "es": ("que dijo", "que dice", "que es eso", "como dice", "como dijo", "cual", "puede",
           "puedes", "me repite", "me lo repite", "es eso", "perdon que", "mande"),
    "fr": ("est ce que", "c est quoi", "quoi", "comment", "pouvez vous", "tu peux",
           "vous pouvez", "pardon", "hein"),
    "de": ("ist das", "ist es", "was", "wie bitte", "wie", "konnen sie", "kannst du",
           "stimmt das", "noch mal", "nochmal"),
}
# "it is" that a word other than "not" follows in its clause: it opens a value, not an answer.
_VALUE_OPENERS: dict[Language, re.Pattern[str]] = {"en": re.compile(r"\bit is(?= +(?!not\b)\w)")}
# "right now", "right away": an adverb, not "that's right" (Whisper's "It's smart.com, right
# now at www.who.com." for "no, it's mark dot brown at yahoo dot com" was a yes).
_NOT_ANSWERS: dict[Language, re.Pattern[str]] = {"en": re.compile(r"\bright(?= +(?:now|away)\b)")}
_TRAILERS = frozenset({"thank", "thanks", "you", "please", "gracias", "merci", "beaucoup",
                       "danke", "schon", "sir", "maam", "senor", "senora", "monsieur", "madame"})
"""Words after an answer that add no value to it ("that's right, thank you")."""
_GLUE = frozenset({"it", "is", "that", "this", "was", "oh", "all", "just", "so", "then",
                   "es", "eso", "esta", "c", "est", "ca", "das", "ist", "ja"})
"""Words between a leading "no" and a yes that name no value ("no, it's fine", "no, that's
right"): the yes then still answers (at low confidence, the signals disagreeing)."""
_CLAUSE = re.compile(r"[^.!?¿;,]+[.!?;,]?")  # "Yes, but can you text it?" is a yes


def _clause_items(clause: str, lang: Language) -> list[_Signal | str]:
    """The clause's signals in order, with the words no signal covers between them."""
    tokens = tokenize(clause)
    items: list[_Signal | str] = []
    last = 0
    for start, end, signal in find_phrases(tokens, _TABLES[lang]):
        if signal.evaluation and signal.answer == "yes" and _negated(tokens, start, end, lang):
            signal = _Signal("no", 0.85, True)
        items.extend(tokens[last:start])
        items.append(signal)
        last = end
    items.extend(tokens[last:])
    return [_mark_value_openers(items, i) for i in range(len(items))]


def _mark_value_openers(items: list[_Signal | str], index: int) -> _Signal | str:
    item = items[index]
    if isinstance(item, str):
        return item
    rest = items[index + 1 :]
    return item._replace(opens_value=any(isinstance(t, str) and t not in _TRAILERS for t in rest))


def _corrects_after_no(items: Sequence[_Signal | str]) -> bool:
    """A leading "no" followed, before any other signal, by words of a value: "no, it's
    sarah two. yeah, who dot com" (a recognizer's "at yahoo") is a no and a correction,
    whatever later words sound like a yes."""
    first = next(i for i, t in enumerate(items) if isinstance(t, _Signal))
    leading = items[first]
    if not isinstance(leading, _Signal) or leading.answer != "no" or leading.evaluation:
        return False
    for item in items[first + 1 :]:
        if isinstance(item, _Signal):
            return False
        if item not in _TRAILERS and item not in _GLUE:
            return True
    return False


def _negated(tokens: Sequence[str], start: int, end: int, lang: Language) -> bool:
    """A negator shortly before (or, in German, after) the phrase, within its clause."""
    before = tokens[max(0, start - 3) : start]
    after = tokens[end : end + 2] if lang == "de" else []
    return any(t in _NEGATORS[lang] for t in [*before, *after])


def _is_question(clause: str, lang: Language) -> bool:
    if clause.rstrip().endswith("?") or clause.lstrip().startswith("¿"):
        return True
    words = " ".join(tokenize(clause))
    return any(words == q or words.startswith(q + " ") for q in _QUESTION_OPENERS[lang])


def _decide(segment: str, lang: Language) -> tuple[str, float] | None:
    """(answer, confidence) if the segment says anything; ("", 0) for a hesitation/question."""
    items: list[_Signal | str] = []
    question = False
    for clause in _CLAUSE.findall(segment):
        found = _clause_items(clause, lang)
        if any(isinstance(t, _Signal) for t in found):
            question = _is_question(clause, lang)
        items.extend(found)
    signals = [t for t in items if isinstance(t, _Signal)]
    if not signals:
        return None
    if _corrects_after_no(items):
        signals = [s for s in signals if s.answer != "yes"]
    elif signals[0].answer == "no" and not signals[0].evaluation:  # "no, the right one is X"
        signals = [signals[0], *(s for s in signals[1:] if s.answer != "yes" or not s.opens_value)]
    if question or any(not s.answer for s in signals):
        return "", 0.0
    deciding = [s for s in signals if s.evaluation] or signals
    answer = deciding[-1].answer
    confidence = deciding[-1].confidence
    if any(s.answer != answer for s in signals):
        confidence = min(confidence, 0.6)
    return answer, confidence


_SPOKEN: dict[Language, dict[str, str]] = {
    "en": {"yes": "yes", "no": "no"},
    "es": {"yes": "sí", "no": "no"},
    "fr": {"yes": "oui", "no": "non"},
    "de": {"yes": "ja", "no": "nein"},
}


def capture_confirmation(transcript: str, language: Language = "en") -> CaptureResult | None:
    """The answer ("yes"/"no") in ``transcript``; None if neither, unsure or a question."""
    lang = check_language(language)
    text = prepare(check_transcript(transcript), lang)
    if lang in _VALUE_OPENERS:
        text = _VALUE_OPENERS[lang].sub("it", text)  # "no, it jane at ...": the "no" decides
    if lang in _NOT_ANSWERS:
        text = _NOT_ANSWERS[lang].sub("", text)
    for segment in reversed(split_corrections(text, lang, bare_no="never")):
        decided = _decide(segment, lang)
        if decided is None:
            continue
        answer, confidence = decided
        return build_result(answer, confidence, _SPOKEN[lang][answer]) if answer else None
    return None
