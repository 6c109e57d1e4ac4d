"""pipeline.decode: bytes → text, with exact content checks per encoding."""
from __future__ import annotations

import codecs

import pytest

from pipeline.decode import InputError, decode_bytes

FR = "Le garçon a mangé une crème brûlée à côté de l'église. Où est le château?\n"
DE = "Die Straße führt über die Brücke zum schönen Schloß. Äpfel und Öl sind günstig.\n"
RU = "Москва — столица России. Здесь живут миллионы людей, и каждый день они едут на работу.\n"


@pytest.mark.parametrize("data", [
    FR.encode("utf-8"),
    codecs.BOM_UTF8 + FR.encode("utf-8"),
    FR.encode("utf-16"),  # BOM, native order
    codecs.BOM_UTF16_LE + FR.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + FR.encode("utf-16-be"),
    FR.encode("utf-16-le"),  # no BOM
    FR.encode("utf-16-be"),
], ids=["utf8", "utf8-bom", "utf16", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"])
def test_unicode_encodings(data):
    text, _ = decode_bytes(data)
    assert text == FR  # no BOM left in the text


@pytest.mark.parametrize("data", [RU.encode("utf-16-le"), RU.encode("utf-16-be")], ids=["le", "be"])
def test_utf16_without_bom_non_latin(data):
    text, _ = decode_bytes(data)
    assert text == RU


def test_cp1251_russian():
    text, enc = decode_bytes(RU.encode("cp1251"))
    assert text == RU
    assert enc == "cp1251"


@pytest.mark.parametrize("original", [FR, DE, "Ça coûte très cher, à mon avis.", "Café", "Grüße aus München"],
                         ids=["fr", "de", "fr-short", "cafe", "de-short"])
def test_latin1(original):
    text, _ = decode_bytes(original.encode("latin-1"))
    assert text == original


WESTERN = {
    "it": "La città è bella e perché no, più caffè per tutti. Però la verità è già nota a metà della società.",
    "es": "El niño español comió en la montaña. La señora Núñez llegó mañana con el café y la canción del año.",
    "pt": "A população não está satisfeita com a situação da educação. São Paulo e João Pessoa têm ações públicas.",
    "de": "Im Café à la carte bestellten die Bürger Crème brûlée; über Straßen und Brücken kamen Gäste.",
}
CENTRAL = {  # cp1250 text that cp1252 would also decode, wrongly (ř as ø, č as è)
    "cs": "Příliš žluťoučký kůň úpěl ďábelské ódy. Včera jsme šli do města, kde byla velká hudební událost a řeka.",
    "pl": "Zażółć gęślą jaźń. Wczoraj poszliśmy do miasta, gdzie odbył się duży koncert i było wielu ludzi.",
}


@pytest.mark.parametrize("lang", sorted(WESTERN))
def test_latin1_western_languages_are_cp1252(lang):
    # charset-normalizer alone says cp1258 for the Italian (ì, ò become combining accents)
    # and cp1250 for the German (same text, wrong name)
    text, enc = decode_bytes(WESTERN[lang].encode("latin-1"))
    assert (text, enc) == (WESTERN[lang], "cp1252")


@pytest.mark.parametrize("lang", sorted(CENTRAL))
def test_cp1250_central_european(lang):
    text, enc = decode_bytes(CENTRAL[lang].encode("cp1250"))
    assert (text, enc) == (CENTRAL[lang], "cp1250")


def test_short_cp1251():
    assert decode_bytes("Привет мир".encode("cp1251"))[0] == "Привет мир"


def test_html_meta_charset_cp1251():
    body = "<p>" + RU + "</p>"
    page = b'<html><head><meta charset="windows-1251"><title>t</title></head><body>' + body.encode("cp1251") + b"</body></html>"
    text, enc = decode_bytes(page, html=True)
    assert enc == "cp1251"
    assert RU in text
    page2 = (b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head><body>'
             + "Да".encode("cp1251") + b"</body></html>")
    assert "<body>Да</body>" in decode_bytes(page2, html=True)[0]


@pytest.mark.parametrize("data", [b"", b"   ", b" \n\t\r\n "])
def test_empty(data):
    with pytest.raises(InputError) as exc:
        decode_bytes(data)
    assert exc.value.reason == "empty"


def test_binary():
    with pytest.raises(InputError) as exc:
        decode_bytes(bytes(range(256)) * 8)
    assert exc.value.reason == "binary"


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", b"PK\x03\x04\x14\x00rest", b"\x89PNG\r\n\x1a\n"])
def test_unsupported_formats(data):
    with pytest.raises(InputError) as exc:
        decode_bytes(data)
    assert exc.value.reason == "unsupported_format"
    assert exc.value.detail.startswith("not text")
