"""Mail connectors (.eml, mbox): the shared contract plus threads, charsets and trimming."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest

from assistant.identity import Identity, normalize
from connectors.base import Connector, Item, ParseError
from connectors.mail import (
    EmlConnector,
    MboxConnector,
    html_to_text,
    normalize_subject,
    trim_reply,
)
from tests.connector_contract import FIXTURES, MTIME, ConnectorContract

MAIL = FIXTURES / "mail"
BAD = FIXTURES / "bad" / "mail"
EML = EmlConnector()
MBOX = MboxConnector()
PORTO = MAIL / "porto_thread.mbox"
APPLE = MAIL / "Arquivo.mbox" / "mbox"


def parse(path: Path, data: bytes | None = None) -> list[Item]:
    connector = EML if path.suffix == ".eml" else MBOX
    return connector.parse(path, path.read_bytes() if data is None else data, MTIME)


def eml(directory: Path, body: str, *headers: str, name: str = "m.eml") -> Path:
    """A UTF-8 text/plain message with the given extra header lines."""
    default = [
        "From: Ana Ribeiro <ana@example.org>",
        "To: Rui Costa <rui@example.com>",
        "Subject: Teste",
        "Date: Mon, 11 Mar 2024 09:30:00 +0000",
        "Message-ID: <teste-1@example.org>",
        "Content-Type: text/plain; charset=utf-8",
    ]
    names = {h.split(":", 1)[0].lower() for h in headers}
    kept = [h for h in default if h.split(":", 1)[0].lower() not in names]
    path = directory / name
    path.write_bytes(("\n".join([*kept, *headers]) + "\n\n" + body).encode("utf-8"))
    return path


class TestEmlContract(ConnectorContract):
    connector: ClassVar[Connector] = EML

    def sample_files(self) -> list[Path]:
        return sorted(MAIL.glob("*.eml"))

    def make_file(self, directory: Path, body: str) -> Path:
        return eml(directory, body)


class TestMboxContract(ConnectorContract):
    connector: ClassVar[Connector] = MBOX

    def sample_files(self) -> list[Path]:
        return [PORTO, APPLE]

    def make_file(self, directory: Path, body: str) -> Path:
        message = eml(directory, body).read_bytes()
        path = directory / "sample.mbox"
        path.write_bytes(b"From ana@example.org Mon Mar 11 09:30:00 2024\n" + message + b"\n")
        return path


# --- single messages: body choice, trimming, headers --------------------------------------


def test_multipart_alternative_prefers_plain_and_drops_the_signature() -> None:
    [item] = parse(MAIL / "multipart_alternative.eml")
    assert item.text == (
        "Olá Rui,\n\n"
        "O jantar de aniversário da Inês fica marcado para sábado, 16 de março, às 20h30 "
        "no Taberna do Largo, em Alfama. Já reservei mesa para seis.\n\n"
        "Consegues levar o bolo? A pastelaria da Rua da Graça fecha às 19h.\n\n"
        "Beijinhos,\nAna"
    )
    assert item.title == "Jantar de aniversário da Inês"
    assert item.conversation == "Jantar de aniversário da Inês"
    assert item.sender == "Ana Ribeiro <ana@example.org>"
    assert item.author == "unknown"
    assert item.kind == "email"
    assert item.document == "mail:jantar-1@mail.example.org"
    assert item.locator == "jantar-1@mail.example.org"
    assert item.time == datetime(2024, 3, 11, 9, 12, 3, tzinfo=UTC)
    assert dict(item.meta) == {
        "from": ["Ana Ribeiro <ana@example.org>"],
        "to": ["Rui Costa <rui@example.com>"],
        "cc": ["Tomás Ribeiro <tomas@example.org>"],
        "subject": "Jantar de aniversário da Inês",
        "message_id": "jantar-1@mail.example.org",
        "in_reply_to": None,
        "references": [],
        "attachments": [],
        "date": "Mon, 11 Mar 2024 09:12:03 +0000",
        "time_estimated": False,
        "time_source": "date_header",
        "body": "plain",
        "quote_trimmed": True,
        "signature": "Ana Ribeiro\nhttps://ana.example.org",  # cut from the text, kept here
    }


def test_html_only_message_becomes_text_without_script_or_style() -> None:
    [item] = parse(MAIL / "html_only.eml")
    assert item.text == (
        "Cara Ana Ribeiro,\n\n"
        "Obrigado por escolher o Hotel Miradouro. A sua reserva está confirmada.\n\n"
        "Entrada: sexta-feira, 3 de maio de 2024\n"
        "Saída: domingo, 5 de maio de 2024\n\n"
        "Quarto duplo com vista rio\n"
        "Pequeno-almoço incluído ☕\n\n"
        "Até breve,\n"
        "Equipa do Hotel Miradouro"
    )
    assert item.meta["body"] == "html"
    assert item.title == "Confirmação da reserva #48213"
    assert item.time == datetime(2024, 3, 12, 14, 3, 55, tzinfo=timezone(timedelta(hours=1)))
    assert item.time.utcoffset() == timedelta(hours=1)


def test_portuguese_reply_loses_quote_and_signature_and_joins_its_thread() -> None:
    [item] = parse(MAIL / "reply_pt_signature.eml")
    assert item.text == (
        "Ana, acho que o segundo orçamento é melhor: inclui a bancada e a instalação.\n"
        "Podemos ligar-lhes amanhã de manhã?"
    )
    assert item.document == "mail:cozinha-1@mail.example.org"
    assert item.locator == "CAB7x+cozinha-2@mail.example.com"
    assert item.title == "Re: Orçamento da cozinha"
    assert item.conversation == "Orçamento da cozinha"
    assert item.meta["in_reply_to"] == "cozinha-1@mail.example.org"
    assert item.meta["references"] == ["cozinha-1@mail.example.org"]
    assert item.meta["quote_trimmed"] is True


def test_latin1_quoted_printable_decodes_with_windows_1252_extras() -> None:
    [item] = parse(MAIL / "latin1_quoted_printable.eml")
    assert item.text == (
        "Olá Ana,\n\n"
        "A reunião de condomínio é na quinta-feira às 21h, na sala do rés-do-chão.\n"
        "Na ordem de trabalhos: pintura da fachada (orçamento de 12.300 €) e a "
        "substituição do elevador.\n\n"
        "Inês"
    )
    assert item.sender == "Inês Moura <ines@example.net>"
    assert item.title == "Reunião de condomínio"
    assert "decode_errors" not in item.meta


def test_attachments_are_listed_by_name_and_type_only() -> None:
    path = MAIL / "attachment.eml"
    [item] = parse(path)
    assert item.text == "Segue o orçamento em PDF e a foto da bancada."
    assert item.meta["attachments"] == [
        {"filename": "Orçamento 2024.pdf", "content_type": "application/pdf"},
        {"filename": "bancada.jpg", "content_type": "image/jpeg"},
    ]
    assert item.meta["to"] == ["Ana Ribeiro <ana@example.org>", "Rui Costa <rui@example.com>"]
    assert item.meta["references"] == [
        "cozinha-1@mail.example.org",
        "CAB7x+cozinha-2@mail.example.com",
    ]
    assert item.document == "mail:cozinha-1@mail.example.org"  # first id in References
    assert item.conversation == "Orçamento da cozinha"  # "Fwd:" stripped
    dumped = json.dumps(dict(item.meta))
    assert "JVBERi" not in dumped and "/9j/" not in dumped  # no base64 of the files
    assert "%PDF" not in dumped and "%PDF" not in item.text


def test_message_without_body_but_attachments_says_so(tmp_path: Path) -> None:
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    body = (
        "--b\nContent-Type: application/pdf\n"
        'Content-Disposition: attachment; filename="fatura.pdf"\n'
        f"Content-Transfer-Encoding: base64\n\n{pdf}\n--b--\n"
    )
    path = eml(tmp_path, body, 'Content-Type: multipart/mixed; boundary="b"')
    [item] = parse(path)
    assert item.text == "Attachments: fatura.pdf"
    assert item.meta["body"] == "attachments"


def test_subject_only_message_uses_the_subject(tmp_path: Path) -> None:
    [item] = parse(eml(tmp_path, "", "Subject: Almoço à 1?"))
    assert (item.text, item.title, item.meta["body"]) == ("Almoço à 1?", "Almoço à 1?", "subject")


# --- time -----------------------------------------------------------------------------------


def test_missing_or_broken_date_falls_back_to_mtime_and_says_so(tmp_path: Path) -> None:
    for date_line in ("Date: sometime last week", "X-No-Date: 1"):
        path = eml(tmp_path, "Olá.", date_line)
        if date_line.startswith("X-"):
            data = path.read_bytes().replace(b"Date: Mon, 11 Mar 2024 09:30:00 +0000\n", b"")
            path.write_bytes(data)
        [item] = parse(path)
        assert item.time == MTIME
        assert item.meta["time_estimated"] is True
        assert item.meta["time_source"] == "mtime"


def test_naive_mtime_is_read_as_local_time(tmp_path: Path) -> None:
    path = eml(tmp_path, "Olá.", "Date: garbage")
    [item] = EML.parse(path, path.read_bytes(), datetime(2024, 1, 1, 12))
    assert item.time == datetime(2024, 1, 1, 12).astimezone()
    assert item.time.tzinfo is not None


def test_minus_zero_zone_is_utc(tmp_path: Path) -> None:
    [item] = parse(eml(tmp_path, "Olá.", "Date: Mon, 11 Mar 2024 09:30:00 -0000"))
    assert item.time == datetime(2024, 3, 11, 9, 30, tzinfo=UTC)
    assert item.meta["time_estimated"] is False


def test_eml_with_leading_from_line_uses_its_date_without_a_date_header(tmp_path: Path) -> None:
    path = eml(tmp_path, "Olá.", "Date: ")
    path.write_bytes(b"From ana@example.org Tue Mar 12 08:30:00 +0100 2024\n" + path.read_bytes())
    [item] = parse(path)
    assert item.time == datetime(2024, 3, 12, 8, 30, tzinfo=timezone(timedelta(hours=1)))
    assert item.meta["time_source"] == "from_line"
    assert item.meta["time_estimated"] is True


# --- charsets ---------------------------------------------------------------------------


def test_bad_utf8_bytes_are_replaced_and_recorded(tmp_path: Path) -> None:
    path = eml(tmp_path, "")
    path.write_bytes(path.read_bytes() + b"Caf\xe9 com leite, por favor.\n")
    [item] = parse(path)
    assert item.text == "Caf\ufffd com leite, por favor."
    assert item.meta["decode_errors"] == ["bytes that are not utf-8 (first at offset 3)"]


def test_unknown_charset_falls_back_and_is_recorded(tmp_path: Path) -> None:
    path = eml(tmp_path, "Pão de Ló.\n", "Content-Type: text/plain; charset=x-mac-klingon")
    [item] = parse(path)
    assert item.text == "Pão de Ló."
    assert item.meta["decode_errors"] == ["unknown charset 'x-mac-klingon'"]


def test_raw_8bit_headers_and_undeclared_cp1252_body(tmp_path: Path) -> None:
    path = tmp_path / "old.eml"
    path.write_bytes(
        b"From: Jo\xe3o Pires <joao@example.net>\nSubject: Or\xe7amento \x80 final\n"
        b"Date: Mon, 11 Mar 2024 09:30:00 +0000\nMessage-ID: <old@example.net>\n\n"
        b"Pre\xe7o: 30 \x80, j\xe1 com IVA.\n"
    )
    [item] = parse(path)
    assert item.sender == "João Pires <joao@example.net>"
    assert item.title == "Orçamento € final"
    assert item.text == "Preço: 30 €, já com IVA."
    assert "decode_errors" not in item.meta


def test_base64_utf8_body_and_encoded_words(tmp_path: Path) -> None:
    body = base64.b64encode("東京で寿司を食べた 🍣\n".encode()).decode()
    path = eml(
        tmp_path,
        body + "\n",
        "Subject: =?utf-8?b?5p2x5Lqs?= trip",
        "Content-Transfer-Encoding: base64",
    )
    [item] = parse(path)
    assert item.text == "東京で寿司を食べた 🍣"
    assert item.title == "東京 trip"


# --- mbox: threads, splitting, broken parts -----------------------------------------------


def test_mbox_thread_plus_unrelated_plus_broken_message() -> None:
    items = parse(PORTO)
    assert [(i.document, i.locator) for i in items] == [
        ("mail:porto-1@mail.example.org", "porto-1@mail.example.org"),
        ("mail:porto-1@mail.example.org", "porto-2@example.com"),
        ("mail:porto-1@mail.example.org", "porto-3@example.net"),
        ("mail:porto-1@mail.example.org", "porto-4@example.com"),
        ("mail:nomsgid-46d4f647788e822052f0", "nomsgid-46d4f647788e822052f0"),
        ("mail:fotos-1@example.org", "fotos-1@example.org"),
    ]
    assert {i.conversation for i in items[:4]} == {"Viagem ao Porto em abril"}
    assert [i.sender for i in items] == [
        "Ana Ribeiro <ana@example.org>",
        "Rui Costa <rui@example.com>",
        "Inês Moura <ines@example.net>",
        "Rui Costa <rui@example.com>",
        "Energia Verde <faturas@energia.example.net>",
        "Tomás Ribeiro <tomas@example.org>",
    ]
    assert [i.text for i in items[1:4]] == [
        "Por mim está ótimo. Eu trato dos bilhetes de comboio.",
        "Contem comigo! Eu reservo o alojamento na Ribeira, uns 90 € por noite.\n"
        "From the photos, the flat has a balcony over the river.",
        "Bilhetes comprados! 🚆\n\nPartida sábado 20/04 às 8h09, carruagem 4, lugares 61 a 63.",
    ]
    assert items[2].time == datetime(2024, 3, 11, 20, 2, 45, tzinfo=timezone(timedelta(hours=1)))


def test_message_without_date_takes_the_from_line_date() -> None:
    fourth = parse(PORTO)[3]
    assert fourth.time == datetime(2024, 3, 12, 8, 30, tzinfo=UTC)
    assert fourth.meta["date"] is None
    assert fourth.meta["time_source"] == "from_line"
    assert fourth.meta["time_estimated"] is True
    assert fourth.meta["body"] == "html"


def test_body_from_lines_do_not_split_and_mboxrd_escapes_are_undone() -> None:
    invoice = parse(PORTO)[4]
    assert invoice.text == (
        "A sua fatura de fevereiro tem o valor de 48,17 EUR e sera debitada a 15 de marco.\n\n"
        "From the 1st of April the tariff changes; see your account for details.\n"
        "From our support team: reply to this message with any questions."
    )
    assert invoice.meta["message_id"] is None
    assert invoice.title == "A sua fatura de fevereiro"


def test_broken_mime_message_keeps_what_could_be_read() -> None:
    broken = parse(PORTO)[5]
    assert broken.text == (
        "Olá! Seguem as fotos do jantar de sábado. A da Inês a soprar as velas ficou ótima."
    )
    assert broken.meta["attachments"] == [{"filename": "velas.jpg", "content_type": "image/jpeg"}]
    assert broken.meta["parse_errors"] == [
        "multipart boundary '==BOUNDARY_A==' not found in the message body",
        "read the parts with boundary '==BOUNDARY_B==' found in the body",
        "text/plain part is not readable text (4 of 5 unprintable)",
        "text/plain: InvalidBase64CharactersDefect",
        "text/plain: InvalidBase64PaddingDefect",
    ]
    assert broken.meta["decode_errors"] == ["bytes that are not utf-8 (first at offset 0)"]


def test_unreadable_message_in_an_mbox_is_skipped_the_rest_kept(tmp_path: Path) -> None:
    junk = b"From x@example.org Mon Mar 11 09:30:00 2024\n\x89PNG\r\n\x1a\n\x00\x00garbage\n\n"
    data = junk + PORTO.read_bytes() + b"\n" + junk
    items = MBOX.parse(tmp_path / "x.mbox", data, MTIME)
    assert [i.locator for i in items] == [i.locator for i in parse(PORTO)]


def test_crlf_mbox_reads_like_lf() -> None:
    lf = parse(PORTO)
    crlf = parse(PORTO, PORTO.read_bytes().replace(b"\n", b"\r\n"))
    assert [(i.source_ref, i.content_hash, i.time) for i in crlf] == [
        (i.source_ref, i.content_hash, i.time) for i in lf
    ]


def test_apple_mail_export_folder() -> None:
    items = parse(APPLE)
    assert [(i.document, i.locator) for i in items] == [
        ("mail:lembrete-99812@sorriso.example.com", "lembrete-99812@sorriso.example.com"),
        ("mail:lembrete-99812@sorriso.example.com", "A1B2C3D4-0001@example.org"),
    ]
    assert items[1].text == "Confirmo a consulta. Obrigada!\n\nEnviado do meu iPhone"
    assert items[1].conversation == "Lembrete: consulta de higiene oral"


def test_empty_mbox_is_an_empty_mailbox(tmp_path: Path) -> None:
    assert MBOX.parse(tmp_path / "Drafts.mbox", b"", MTIME) == []
    assert MBOX.parse(tmp_path / "Drafts.mbox", b"\n\n", MTIME) == []


def test_duplicate_message_ids(tmp_path: Path) -> None:
    one = eml(tmp_path, "Primeira versão.").read_bytes()
    other = eml(tmp_path, "Outra mensagem com o mesmo id.").read_bytes()
    sep = b"From ana@example.org Mon Mar 11 09:30:00 2024\n"
    items = MBOX.parse(
        tmp_path / "d.mbox", sep + one + b"\n" + sep + one + b"\n" + sep + other, MTIME
    )
    assert [(i.locator, i.text) for i in items] == [
        ("teste-1@example.org", "Primeira versão."),
        ("teste-1@example.org~2", "Outra mensagem com o mesmo id."),
    ]


def test_message_without_message_id_gets_a_stable_hash(tmp_path: Path) -> None:
    path = eml(tmp_path, "Sem identificador.")
    data = path.read_bytes().replace(b"Message-ID: <teste-1@example.org>\n", b"")
    first = EML.parse(path, data, MTIME)
    again = EML.parse(tmp_path / "copy.eml", data, datetime(2030, 1, 1, tzinfo=UTC))
    assert first[0].locator == again[0].locator
    assert first[0].locator.startswith("nomsgid-")
    assert first[0].document == f"mail:{first[0].locator}"


def test_long_body_is_split_with_locator_suffixes(tmp_path: Path) -> None:
    sentences = [f"Frase número {n} sobre a viagem ao Porto e o alojamento." for n in range(80)]
    body = " ".join(sentences)
    items = parse(eml(tmp_path, body + "\n"))
    assert len(items) == 5
    assert [i.locator for i in items] == [f"teste-1@example.org:{k}" for k in range(5)]
    assert all(len(i.text) <= 1000 for i in items)
    assert " ".join(i.text for i in items).split() == body.split()
    assert [(i.meta["part"], i.meta["parts"]) for i in items] == [(k, 5) for k in range(5)]
    assert {i.document for i in items} == {"mail:teste-1@example.org"}


# --- re-export stability -----------------------------------------------------------------


NEW_MESSAGES = (
    b"From ana@example.org Wed Mar 13 10:00:00 2024\n"
    b"From: Ana Ribeiro <ana@example.org>\n"
    b"Subject: Re: Viagem ao Porto em abril\n"
    b"Date: Wed, 13 Mar 2024 10:00:00 +0000\n"
    b"Message-ID: <porto-5@mail.example.org>\n"
    b"References: <porto-1@mail.example.org> <porto-4@example.com>\n"
    b"Content-Type: text/plain; charset=utf-8\n\n"
    b"Perfeito, obrigada Rui!\n\n"
    b"From rui@example.com Wed Mar 13 11:00:00 2024\n"
    b"From: Rui Costa <rui@example.com>\n"
    b"Subject: Jantar na sexta?\n"
    b"Date: Wed, 13 Mar 2024 11:00:00 +0000\n"
    b"Message-ID: <jantar-sexta@example.com>\n"
    b"Content-Type: text/plain; charset=utf-8\n\n"
    b"Alguem quer jantar na sexta?\n"
)


def test_longer_re_export_keeps_old_refs_and_hashes(tmp_path: Path) -> None:
    old = parse(PORTO)
    longer = tmp_path / "All mail Including Spam and Trash.mbox"
    longer.write_bytes(PORTO.read_bytes() + b"\n" + NEW_MESSAGES)
    new = parse(longer)
    old_keys = [(i.source_ref, i.content_hash) for i in old]
    assert [(i.source_ref, i.content_hash) for i in new[: len(old)]] == old_keys
    assert [i.source_ref for i in new[len(old) :]] == [
        "mail:porto-1@mail.example.org#porto-5@mail.example.org",
        "mail:jantar-sexta@example.com#jantar-sexta@example.com",
    ]


def test_same_message_as_eml_and_in_mbox_has_one_source_ref(tmp_path: Path) -> None:
    data = PORTO.read_bytes()
    start = data.index(b"From: Rui Costa")
    end = data.index(b"\nFrom ines@example.net")
    saved = tmp_path / "Re Viagem ao Porto.eml"
    saved.write_bytes(data[start:end])
    [single] = parse(saved)
    in_mbox = parse(PORTO)[1]
    assert (single.source_ref, single.content_hash) == (in_mbox.source_ref, in_mbox.content_hash)


# --- author resolution ------------------------------------------------------------------


def test_identity_email_resolves_sender_with_display_name() -> None:
    me = Identity(frozenset({normalize("email", "rui@example.com")}))
    items = parse(PORTO)
    assert [me.author_of(i) for i in items] == ["other", "self", "other", "self", "other", "other"]
    probe = Item(
        text="x",
        time=MTIME,
        kind="email",
        document="mail:x",
        locator="x",
        sender="Rui Costa <rui@example.com>",
    )
    assert me.author_of(probe) == "self"
    assert Identity(frozenset({normalize("email", "RUI@example.com")})).author_of(probe) == "self"


def test_identity_by_name_and_unknown_without_sender() -> None:
    me = Identity(frozenset({normalize("name", "Inês Moura")}))
    items = parse(PORTO)
    assert [me.author_of(i) for i in items[:3]] == ["other", "other", "self"]
    assert {i.author for i in items} == {"unknown"}


# --- trimming and HTML units --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Sounds good.\n\nOn Mon, Mar 11, 2024 at 10:05 AM Ana Ribeiro <\nana@example.org> "
            "wrote:\n> Lunch on Friday?\n",
            "Sounds good.",
        ),
        (
            "Ok para mim.\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\n\nOlá",
            "Ok para mim.",
        ),
        (
            "Combinado.\n\n________________________________\nDe: Ana Ribeiro\nEnviado: segunda",
            "Combinado.",
        ),
        (
            "> Pergunta um?\nResposta um.\n> Pergunta dois?\nResposta dois.",
            "Resposta um.\nResposta dois.",
        ),
        ("> only a quote\n> nothing else", "> only a quote\n> nothing else"),
        ("Texto.\n--\nAssinatura", "Texto."),
        ("On a hill we wrote songs.\nThat was fun.", "On a hill we wrote songs.\nThat was fun."),
        ("Em 2024 vamos ao Porto:\n- comboio", "Em 2024 vamos ao Porto:\n- comboio"),
    ],
)
def test_trim_reply(text: str, expected: str) -> None:
    assert trim_reply(text) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Fwd: RES: Viagem", "Viagem"),
        ("AW: Termin", "Termin"),
        ("Fw: RE[2]: Budget", "Budget"),
        ("ENC: Fotos", "Fotos"),
        ("Relatório: março", "Relatório: março"),
        ("Re:", "Re:"),
        ("", None),
    ],
)
def test_normalize_subject(subject: str, expected: str | None) -> None:
    assert normalize_subject(subject) == expected


def test_html_blockquotes_become_quoted_lines() -> None:
    html = (
        "<p>a<!-- hidden --></p><table><tr><td>C</td><td>D</td></tr></table>"
        "<blockquote>q1<blockquote>q2</blockquote>q3</blockquote>after"
    )
    assert html_to_text(html) == "a\n\nC D\n\n> q1\n\n> > q2\n\n> q3\n\nafter"


def test_deeply_nested_html_is_linear(tmp_path: Path) -> None:
    html = "<div>" * 30_000 + "fundo" + "</div>" * 30_000
    started = time.perf_counter()
    assert html_to_text(html) == "fundo"
    assert time.perf_counter() - started < 5


def test_deeply_nested_mime_fails_cleanly(tmp_path: Path) -> None:
    depth = 2000
    head = (
        "From: a@example.org\nDate: Mon, 11 Mar 2024 09:30:00 +0000\nSubject: fundo\n"
        'Content-Type: multipart/mixed; boundary="b0"\n\n'
    )
    opening = "".join(
        f'--b{i - 1}\nContent-Type: multipart/mixed; boundary="b{i}"\n\n' for i in range(1, depth)
    )
    closing = "".join(f"--b{i}--\n" for i in range(depth - 1, -1, -1))
    data = (
        head + opening + f"--b{depth - 1}\nContent-Type: text/plain\n\nfundo\n" + closing
    ).encode()
    with pytest.raises(ParseError, match="nested too deeply"):
        EML.parse(tmp_path / "deep.eml", data, MTIME)
    sep = b"From a@example.org Mon Mar 11 09:30:00 2024\n"
    good = sep + eml(tmp_path, "Ainda aqui.").read_bytes()
    items = MBOX.parse(tmp_path / "deep.mbox", sep + data + b"\n" + good, MTIME)
    assert [i.text for i in items] == ["Ainda aqui."]


# --- detection ----------------------------------------------------------------------------


def test_detected_by_content_under_misleading_names(tmp_path: Path) -> None:
    message = (MAIL / "latin1_quoted_printable.eml").read_bytes()
    assert EML.detect(tmp_path / "notes.txt", message[:4096])
    assert EML.detect(tmp_path / "message", message[:4096])
    mbox = PORTO.read_bytes()
    assert MBOX.detect(tmp_path / "export.txt", mbox[:4096])
    assert MBOX.detect(tmp_path / "Inbox", mbox[:4096])
    assert not EML.detect(tmp_path / "export.txt", mbox[:4096])  # an mbox is the mbox's
    assert EML.detect(tmp_path / "saved.eml", mbox[:4096])  # a From_ line in a saved .eml
    assert MBOX.detect(APPLE, b"")  # Apple Mail: Arquivo.mbox/mbox, even empty
    assert not MBOX.detect(tmp_path / "notes" / "mbox", b"")
    assert MBOX.detect(tmp_path / "Old.MBX", b"")


def test_detect_rejects_other_formats() -> None:
    # fixtures/life/ is a whole life in every format, mail too
    others = [p for p in FIXTURES.rglob("*") if p.is_file() and not {"mail", "life"} & set(p.parts)]
    assert (FIXTURES / "notes" / "2024-03-14.md") in others
    for path in others:
        head = path.read_bytes()[:4096]
        assert not EML.detect(path, head), f"eml claims {path}"
        assert not MBOX.detect(path, head), f"mbox claims {path}"


def test_plain_notes_with_a_date_line_are_not_mail(tmp_path: Path) -> None:
    note = b"Date: 2024-03-14\nSubject: groceries\n\nmilk, eggs\n"
    assert not EML.detect(tmp_path / "list.txt", note)
    assert not MBOX.detect(tmp_path / "list.txt", b"From here on I write daily.\nToday: rain\n")


def test_threads_not_files_are_the_documents() -> None:
    for item in [*parse(PORTO), *parse(MAIL / "attachment.eml")]:
        assert item.document.startswith("mail:")
        assert "fixtures" not in item.source_ref


def test_connector_names_and_histories() -> None:
    assert (EmlConnector.name, MboxConnector.name) == ("eml", "mbox")
    assert EmlConnector.history == MboxConnector.history == "append"
    assert EmlConnector.extensions == (".eml",)
    assert MboxConnector.extensions == (".mbox", ".mbx")


# --- malformed inputs ---------------------------------------------------------------------

BAD_MAIL = {
    "empty.eml": "empty file: no mail headers",
    "binary_junk.eml": "not an email message: it does not start with mail headers",
    "no_mail_headers.eml": "not an email message: it does not start with mail headers",
    "nul_bytes_in_headers.eml": "binary file, not an email message: NUL bytes in the headers",
    "headers_but_nothing_readable.eml": "email message has no readable text",
    "utf16_without_bom.eml": "not an email message",
    "binary_junk.mbox": "not an mbox: the file does not start with a 'From <sender> <date>' line",
    "not_an_mbox.mbox": "not an mbox: the file does not start with a 'From <sender> <date>' line",
    "mbox_without_readable_messages.mbox": "none of the 2 messages in the mbox is readable mail",
}


@pytest.mark.parametrize("name", sorted(BAD_MAIL))
def test_each_bad_file_raises_its_parse_error(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(BAD / name)
    assert str(caught.value).startswith(BAD_MAIL[name])


def test_every_bad_mail_fixture_has_an_expected_error() -> None:
    assert {p.name for p in BAD.iterdir()} == set(BAD_MAIL)
