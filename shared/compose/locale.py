"""Locale-dependent copy: price formatting and the few fixed phrases an ad needs.

No ICU/Babel dependency: the handful of locales we serve are written out here, following CLDR
conventions (symbol position, separators, minimum grouping digits, currency decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: French groups thousands with it


@dataclass(frozen=True)
class NumberStyle:
    group: str
    decimal: str
    symbol_first: bool  # "$1.00" vs "1,00 €"
    min_grouping: int = 1  # Spanish writes 1299 but 12.999 (CLDR minimumGroupingDigits = 2)


NUMBER_STYLES: dict[str, NumberStyle] = {
    "en": NumberStyle(",", ".", True),
    "de": NumberStyle(".", ",", False),
    "fr": NumberStyle(NNBSP, ",", False),
    "es": NumberStyle(".", ",", False, min_grouping=2),
    "ja": NumberStyle(",", ".", True),
    "zh": NumberStyle(",", ".", True),
}

# Shops in Taiwan price in whole dollars (CLDR: TWD cash digits 0), as yen and won have no cents.
CURRENCY_DECIMALS = {"JPY": 0, "KRW": 0, "TWD": 0}
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "KRW": "₩",
    "INR": "₹",
    "TWD": "NT$",
    "HKD": "HK$",
}
# Where a bare symbol would be ambiguous in a locale, CLDR qualifies it.
SYMBOL_OVERRIDES = {
    ("en", "CNY"): "CN¥",
    ("ja", "CNY"): "元",
    ("zh", "JPY"): "JP¥",
    ("zh", "USD"): "US$",
    # Japanese writes the yen sign full-width (CLDR ja: ￥1,299); Taiwan and Hong Kong qualify
    # the mainland's yuan.
    ("ja", "JPY"): "￥",
    ("zh-TW", "CNY"): "CN¥",
    ("zh-HK", "CNY"): "CN¥",
    ("en-CA", "USD"): "US$",
    ("en-AU", "USD"): "US$",
    ("fr-CA", "USD"): "$ US",
}

LANGUAGES = ("en", "de", "fr", "es", "ja", "zh")

# Fixed phrases per language. CTA keys are event types.
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "product_display": "Shop now",
        "cart": "Check out",
        "recommendation": "See all",
        "brand": "Discover",
        "cart_kicker": "Complete your order",
        "picked": "Picked for you",
        "single_pick": "Recommended",
    },
    "de": {
        "product_display": "Jetzt kaufen",
        "cart": "Zur Kasse",
        "recommendation": "Alle ansehen",
        "brand": "Entdecken",
        "cart_kicker": "Bestellung abschließen",
        "picked": "Für dich ausgewählt",
        "single_pick": "Empfohlen",
    },
    "fr": {
        "product_display": "Acheter",
        "cart": "Commander",
        "recommendation": "Tout voir",
        "brand": "Découvrir",
        "cart_kicker": "Finalisez votre commande",
        "picked": "Choisis pour vous",
        "single_pick": "Recommandé",
    },
    "es": {
        "product_display": "Comprar",
        "cart": "Pagar",
        "recommendation": "Ver todo",
        "brand": "Descubrir",
        "cart_kicker": "Completa tu pedido",
        "picked": "Elegidos para ti",
        "single_pick": "Recomendado",
    },
    "ja": {
        "product_display": "今すぐ購入",
        "cart": "購入手続きへ",
        "recommendation": "すべて見る",
        "brand": "詳しく見る",
        "cart_kicker": "ご注文を完了しましょう",
        "picked": "あなたへのおすすめ",
        "single_pick": "おすすめ",
    },
    "zh": {
        "product_display": "立即购买",
        "cart": "去结算",
        "recommendation": "查看全部",
        "brand": "了解更多",
        "cart_kicker": "完成您的订单",
        "picked": "为您精选",
        "single_pick": "为您推荐",
    },
}


# Taiwan, Hong Kong and Macao read traditional characters; their phrases replace the "zh" ones.
TRADITIONAL_LOCALES = ("zh-TW", "zh-HK", "zh-MO", "zh-Hant")
PHRASES_HANT: dict[str, str] = {
    "product_display": "立即購買",
    "cart": "去結帳",
    "recommendation": "查看全部",
    "brand": "了解更多",
    "cart_kicker": "完成您的訂單",
    "picked": "為您精選",
    "single_pick": "為您推薦",
}


def language(locale: str) -> str:
    """'de-AT' -> 'de'; unknown languages fall back to English."""
    lang = locale.split("-", 1)[0].lower()
    return lang if lang in LANGUAGES else "en"


def phrase(key: str, locale: str) -> str:
    if any(locale.lower().startswith(t.lower()) for t in TRADITIONAL_LOCALES):
        return PHRASES_HANT[key]
    return PHRASES[language(locale)][key]


def _group(digits: str, sep: str, min_grouping: int) -> str:
    if len(digits) < 3 + min_grouping:
        return digits
    head, tail = digits[: len(digits) % 3], digits[len(digits) % 3 :]
    groups = [head] if head else []
    groups += [tail[i : i + 3] for i in range(0, len(tail), 3)]
    return sep.join(groups)


def format_price(amount: Decimal | float | int, currency: str, locale: str = "en-US") -> str:
    """A price as shoppers in `locale` write it: en-US "$1,299.00", de-DE "1.299,00 €"."""
    style = NUMBER_STYLES[language(locale)]
    places = CURRENCY_DECIMALS.get(currency, 2)
    quantum = Decimal(1).scaleb(-places)
    value = Decimal(str(amount)).quantize(quantum, rounding=ROUND_HALF_UP)
    whole, _, frac = f"{value:f}".partition(".")
    number = _group(whole, style.group, style.min_grouping)
    if places:
        number += style.decimal + frac
    lang = language(locale)
    symbol = (
        SYMBOL_OVERRIDES.get((locale, currency))
        or SYMBOL_OVERRIDES.get((lang, currency))
        or SYMBOLS.get(currency)
    )
    if symbol is None:  # unknown currency: the ISO code, spaced like a suffix symbol
        return f"{currency}{NBSP}{number}" if style.symbol_first else f"{number}{NBSP}{currency}"
    return f"{symbol}{number}" if style.symbol_first else f"{number}{NBSP}{symbol}"
