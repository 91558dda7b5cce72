from decimal import Decimal

import pytest

from shared.compose.locale import LANGUAGES, PHRASES, format_price, language, phrase


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("1299", "USD", "en-US", "$1,299.00"),
        ("0", "USD", "en-US", "$0.00"),
        ("1234567.5", "USD", "en-US", "$1,234,567.50"),
        ("19.99", "GBP", "en-GB", "£19.99"),
        ("1299", "EUR", "de-DE", "1.299,00\u00a0€"),
        ("1299", "EUR", "fr-FR", "1\u202f299,00\u00a0€"),
        ("1299", "EUR", "es-ES", "1299,00\u00a0€"),  # Spanish groups from five digits
        ("12999", "EUR", "es-ES", "12.999,00\u00a0€"),
        ("1299", "JPY", "ja-JP", "￥1,299"),  # CLDR ja: the full-width yen sign
        ("1299.5", "JPY", "ja-JP", "￥1,300"),  # yen has no minor unit; half rounds up
        ("1299", "TWD", "zh-TW", "NT$1,299"),  # whole dollars in Taiwan
        ("1299", "CNY", "zh-TW", "CN¥1,299.00"),
        ("1299", "JPY", "en-US", "¥1,299"),
        ("1299", "CNY", "zh-CN", "¥1,299.00"),
        ("1299", "CNY", "en-US", "CN¥1,299.00"),
        ("1299", "USD", "zh-CN", "US$1,299.00"),
        ("5", "CHF", "de-CH", "5,00\u00a0CHF"),  # unknown symbol: the ISO code
        ("0.005", "USD", "en-US", "$0.01"),
    ],
)
def test_format_price(amount: str, currency: str, locale: str, expected: str) -> None:
    assert format_price(Decimal(amount), currency, locale) == expected


def test_unknown_language_falls_back_to_english() -> None:
    assert language("pt-BR") == "en"
    assert format_price(Decimal("1299"), "USD", "pt-BR") == "$1,299.00"
    assert phrase("cart", "xx") == "Check out"


def test_every_language_has_every_phrase() -> None:
    keys = set(PHRASES["en"])
    for lang in LANGUAGES:
        assert set(PHRASES[lang]) == keys, lang
        assert all(PHRASES[lang].values())
