"""From an event to a creative plan: prompts, copy and variants for each creative. Pure logic.

An event asks for `count` variants, each rendered in every requested size. Each variant needs one
generated image per product (or complement) it shows; sizes of the same variant reuse those
images, so the generator runs once per (variant, image), not once per creative.

The audience picks a *tone* (segment first, then interests): the colour words that go into the
prompts, the kicker line, the type face and the button shape. Different audiences therefore get
visibly different creatives, and each plan records which tone, colour and prompts it used.
"""

from __future__ import annotations

import re

from shared.compose.locale import format_price, language, phrase
from shared.compose.templates import arrangement_for, max_tiles, template_for
from shared.events import CampaignEvent, Product
from shared.ids import creative_id, stable_seed
from shared.plan import DEFAULT_TONE_NAME, AdCopy, CreativePlan, EventPlan, ImageRequest, Tone
from shared.text.colour_words import colour_in
from shared.text.language import compose, fold, looks_foreign, non_latin
from shared.text.product_noun import product_noun, without_numbers

# Colour words in the generator's caption vocabulary (the catalog's palette plus the colours
# emoji names use); other colour names a product text may use map onto them.
COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")
COLOUR_ALIASES = {
    "grey": "black",
    "gray": "black",
    "gold": "yellow",
    "golden": "yellow",
    "silver": "white",
    "navy": "blue",
    "beige": "brown",
    "tan": "brown",
    "violet": "purple",
    "crimson": "red",
    "teal": "green",
    "olive": "green",
    "cream": "white",
    "ivory": "white",
    "charcoal": "black",
    "turquoise": "blue",
}


TONES: tuple[Tone, ...] = (
    Tone(
        "sporty",
        ("sport", "running", "fitness", "gym", "athlet", "cycling", "yoga"),
        ("red", "blue", "orange"),
        "Built to move",
    ),
    Tone(
        "outdoor",
        ("outdoor", "hiking", "camping", "trail", "climb", "nature"),
        ("green", "brown", "orange"),
        "Made for the trail",
    ),
    Tone(
        "luxury",
        ("luxury", "premium", "designer", "vip"),
        ("black", "purple", "white"),
        "Exquisitely made",
        serif=True,
        pill=False,
    ),
    Tone(
        "family",
        ("family", "parent", "kids", "mom", "dad", "baby"),
        ("yellow", "blue", "green"),
        "Loved by families",
    ),
    Tone(
        "budget",
        ("budget", "deal", "bargain", "value", "discount", "saver"),
        ("blue", "red", "green"),
        "Great value",
        pill=False,
    ),
    Tone(
        "young",
        ("young", "teen", "student", "gen z", "trend", "gaming"),
        ("pink", "purple", "yellow"),
        "Fresh drop",
    ),
    Tone(
        "professional",
        ("professional", "business", "office", "work", "b2b"),
        ("black", "blue", "white"),
        "Ready for work",
        serif=True,
        pill=False,
    ),
)
DEFAULT_TONE = Tone(
    DEFAULT_TONE_NAME, (), ("red", "blue", "green", "yellow", "purple", "orange"), "Just for you"
)

# Cart complements: keyword in the cart item -> (prompt noun from the generator's captions,
# title shown to shoppers). First matching rule wins; the category rules are the fallback.
COMPLEMENTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        r"running|sneaker|trainer|athletic",
        (("socks", "Sport socks"), ("running shirt", "Running shirt"), ("billed cap", "Cap")),
    ),
    (r"hiking|boot", (("socks", "Wool socks"), ("backpack", "Backpack"), ("gloves", "Gloves"))),
    (r"shoe|sandal|heel", (("socks", "Socks"), ("handbag", "Handbag"))),
    (
        r"handbag|bag|purse|clutch|tote|backpack",
        (("purse", "Wallet"), ("sunglasses", "Sunglasses"), ("scarf", "Scarf")),
    ),
    (
        r"coffee|espresso|latte",
        (("hot beverage", "Mug"), ("cookie", "Cookies"), ("croissant", "Croissant")),
    ),
    (r"\btea\b|teapot", (("teacup without handle", "Teacup"), ("honey pot", "Honey"))),
    (
        r"laptop|computer|notebook pc",
        (("computer mouse", "Mouse"), ("keyboard", "Keyboard"), ("briefcase", "Laptop bag")),
    ),
    (r"phone|mobile", (("battery", "Power bank"), ("electric plug", "Charger"))),
    (r"camera", (("battery", "Spare battery"), ("backpack", "Camera bag"))),
    (
        r"dress|skirt|blouse",
        (("high-heeled shoe", "Heels"), ("handbag", "Handbag"), ("ring", "Ring")),
    ),
    (r"shirt|tee|top\b|hoodie|sweater", (("jeans", "Jeans"), ("billed cap", "Cap"))),
    (r"jeans|trousers|pants|shorts", (("t-shirt", "T-shirt"), ("running shoe", "Sneakers"))),
    (r"book|novel", (("bookmark", "Bookmark"), ("glasses", "Reading glasses"))),
    (r"pen\b|pencil|notebook|notepad", (("notebook", "Notebook"), ("pen", "Pen"))),
    (r"wine|champagne", (("wine glass", "Wine glasses"), ("cheese wedge", "Cheese"))),
    (r"lipstick|make-?up|cosmetic", (("mirror", "Mirror"), ("clutch bag", "Make-up pouch"))),
    (r"ball|racket|sport", (("socks", "Sport socks"), ("running shirt", "Jersey"))),
    (r"food|drink|snack", (("basket", "Basket"), ("cup with straw", "Drink"))),
)
DEFAULT_COMPLEMENTS = (("wrapped gift", "Gift wrap"), ("shopping bags", "Tote bag"))

# Product text -> the generator's caption noun for it. Titles like "Pegasus 40 Trail Runner
# Shoes" are far from the emoji captions the generator learned; these put them back in vocabulary.
# First match wins, so specific rules come before general ones.
PRODUCT_NOUNS: tuple[tuple[str, str], ...] = (
    (r"running shoe|runner|sneaker|trainer|athletic shoe", "running shoe"),
    (r"hiking boot|trail boot", "hiking boot"),
    (r"high heel|stiletto|pump", "high-heeled shoe"),
    (r"sandal|flip-?flop", "sandal"),
    (r"ballet", "ballet shoes"),
    (r"\bboots?\b", "boot"),
    (r"shoe|loafer|oxford", "shoe"),
    (r"backpack|rucksack", "backpack"),
    (r"wallet|purse", "purse"),
    (r"clutch|pouch", "clutch bag"),
    (r"handbag|tote|\bbag", "handbag"),
    (r"t-?shirt|\btee\b", "t-shirt"),
    (r"jeans|denim", "jeans"),
    (r"dress", "dress"),
    (r"coat|jacket|parka", "coat"),
    (r"scarf", "scarf"),
    (r"glove", "gloves"),
    (r"sock", "socks"),
    (r"\bcap\b|baseball hat", "billed cap"),
    (r"sunglass", "sunglasses"),
    (r"glasses|spectacles", "glasses"),
    (r"shorts", "shorts"),
    (r"\bring\b", "ring"),
    (r"necklace|pendant|gem", "gem stone"),
    (r"lipstick", "lipstick"),
    (r"laptop|notebook pc", "laptop"),
    (r"smartphone|phone", "mobile phone"),
    (r"camera", "camera"),
    (r"keyboard", "keyboard"),
    (r"\bmouse\b", "computer mouse"),
    (r"coffee|espresso|\bmug\b", "hot beverage"),
    (r"teapot", "teapot"),
    (r"\btea\b", "teacup without handle"),
    (r"wine", "wine glass"),
    (r"notebook|journal", "notebook"),
    (r"\bbooks?\b|novel", "closed book"),
    (r"pen\b|ballpoint", "pen"),
    (r"guitar", "guitar"),
    (r"violin", "violin"),
    (r"football|soccer", "soccer ball"),
    (r"basketball", "basketball"),
    (r"teddy|plush", "teddy bear"),
)

MAX_PRODUCTS_PER_CREATIVE = 4


def pick_tone(segment: str, interests: list[str]) -> Tone:
    for word in [segment.lower(), *(i.lower() for i in interests)]:
        for tone in TONES:
            if any(k in word for k in tone.keywords):
                return tone
    return DEFAULT_TONE


def _rule_noun(text: str) -> str | None:
    for pattern, noun in PRODUCT_NOUNS:
        if re.search(pattern, text):
            return noun
    return None


def product_phrase(product: Product) -> str:
    """The product as a caption noun phrase ("running shoe").

    Latin-script titles take the English rules first (title, then category), exactly as before.
    Titles in other scripts, and Latin titles in another language that no rule matches
    ("Zapatillas de Running Hombre", "Rucksack Herren Wasserdicht"), go to the multilingual
    encoder, which picks the closest catalog concept (shared.text.product_noun). English titles
    no rule knows keep their last words: the generator's English text encoder can read those,
    and the concept match has no "none of these" answer for Latin titles ("Classic wristwatch"
    would become "tear-off calendar"). The prompt is English either way; the ad keeps the
    shop's title."""
    shown = compose(product.title)  # NFKC for matching; the ad itself keeps product.title
    title, category = shown.casefold(), fold(product.category)
    latin = not non_latin(shown)
    if latin and (noun := _rule_noun(title) or _rule_noun(category)):
        return noun
    if looks_foreign(shown) and (noun := product_noun(shown)):
        return noun
    if not latin and (noun := _rule_noun(category)):
        return noun
    return _last_words(product)


def _without_brand(text: str, brand: str) -> str:
    """Folded `text` without the product's brand, which names neither the product nor its colour
    ("红蜻蜓" red dragonfly, "Black+Decker")."""
    text, brand = fold(text), fold(brand).strip()
    if not brand:
        return text
    if non_latin(brand):  # no spaces between words in Han or kana: "红蜻蜓男鞋"
        return text.replace(brand, " ")
    # A Latin brand only as a whole word: brand "On" must not cut "cotton", nor "Ed" "red".
    return re.sub(rf"(?<!\w){re.escape(brand)}(?!\w)", " ", text)


def _last_words(product: Product) -> str:
    """The last two title words: the English fallback when nothing else names the product.
    Numbers with their units and multipliers go first ("Water Bottle 750ml", "330ml x 24 cans",
    "drill 18V"): "ml", "x" and "v" are not words of the product."""
    title = without_numbers(_without_brand(product.title, product.brand))
    words = re.findall(r"[a-z][a-z'-]*", title)
    words = [w for w in words if w not in COLOURS and w not in COLOUR_ALIASES]
    phrase_ = " ".join(words[-2:]) if words else ""
    return phrase_ or fold(product.category)


def named_colour(product: Product) -> str | None:
    """The product's own colour, as a caption colour word, if its text names one: English words
    first (as always), then the colour words of the other shop languages. The text is folded
    (NFKC, case folded: decomposed "marrón", full-width "ＲＥＤ") and the brand taken out first:
    "红蜻蜓" or "Black+Decker" say nothing about the product's colour."""
    text = _without_brand(f"{product.title} {product.description}", product.brand)
    for word in re.findall(r"[a-z]+", text):
        if word in COLOURS:
            return word
        if word in COLOUR_ALIASES:
            return COLOUR_ALIASES[word]
    return colour_in(text)


def variant_colour(tone: Tone, variant: int) -> str:
    return tone.palette[variant % len(tone.palette)]


def build_prompt(
    product: Product, segment: str, interests: list[str], variant: int, position: int = 0
) -> str:
    """ "<colour> <product noun phrase>", like the catalog captions ("red running shoe").

    The product's own colour is kept; otherwise the audience's tone picks it, varying by variant
    (and by `position`, so several products in one creative are not all one colour).
    """
    tone = pick_tone(segment, interests)
    colour = named_colour(product) or variant_colour(tone, variant + position)
    return f"{colour} {product_phrase(product)}"


def complements_for(product: Product) -> tuple[tuple[str, str], ...]:
    """(prompt noun, shopper title) pairs that go with a cart item."""
    for text in (product.title.lower(), product.category.lower()):
        for pattern, items in COMPLEMENTS:
            if re.search(pattern, text):
                return items
    return DEFAULT_COMPLEMENTS


def _copy_for(event: CampaignEvent, shown: list[Product], tone: Tone) -> AdCopy:
    lead, locale = shown[0], event.audience.locale
    brand = event.brand.name if event.brand else lead.brand
    tagline = event.brand.tagline if event.brand else ""
    tone_kicker = tone.kicker if language(locale) == "en" else ""
    headline, price, kicker = lead.title, format_price(lead.price, lead.currency, locale), ""
    if event.type == "cart":
        kicker = phrase("cart_kicker", locale)
    elif event.type == "recommendation":
        if len(shown) > 1:
            headline, price = phrase("picked", locale), ""
        kicker = tone_kicker or phrase("single_pick", locale)
    elif event.type == "brand":
        headline, price = brand, ""
    else:
        kicker = tone_kicker
    return AdCopy(
        headline=headline,
        price=price,
        cta=phrase(event.type, locale),
        brand=brand,
        tagline=tagline,
        kicker=kicker,
    )


def _shown_products(event: CampaignEvent, size: str, variant: int) -> list[int]:
    """Indices of the event's products shown in one creative."""
    n = min(len(event.products), MAX_PRODUCTS_PER_CREATIVE)
    if event.type in ("product_display", "cart"):
        return [0]
    tiles = min(n, max_tiles(size, event.type))
    if tiles == 1 and n > 1:  # a single tile rotates through the picks, one per variant
        return [variant % n]
    return list(range(tiles))


def plan_event(event: CampaignEvent) -> EventPlan:
    """Deterministic plan: equal events give equal prompts, seeds and creative ids."""
    seed = event.creative.seed
    base_seed = seed if seed is not None else stable_seed(event.event_id)
    audience = event.audience
    tone = pick_tone(audience.segment, audience.interests)
    n_products = len(event.products)  # complement keys start here, past every product index
    comps = complements_for(event.products[0]) if event.type == "cart" else ()
    requests: dict[tuple[int, int], ImageRequest] = {}
    creatives: list[CreativePlan] = []
    for variant in range(event.creative.count):
        colour = variant_colour(tone, variant)
        segment = re.sub(r"[^a-z0-9]+", "-", audience.segment.lower()).strip("-") or "all"
        prefix = segment if segment == tone.name else f"{segment}-{tone.name}"
        name = f"{prefix}-{colour}-v{variant}"  # e.g. "sporty-red-v0", "students-young-pink-v1"
        for size in event.creative.sizes:
            keys: list[tuple[int, int]] = []
            for p_idx in _shown_products(event, size, variant):
                key = (variant, p_idx)
                prompt = build_prompt(
                    event.products[p_idx], audience.segment, audience.interests, variant, p_idx
                )
                requests.setdefault(
                    key, ImageRequest(key, prompt, stable_seed(base_seed, variant, p_idx))
                )
                keys.append(key)
            n_comps = max_tiles(size, "cart") - 1 if comps else 0
            for c_idx, (noun, _title) in enumerate(comps[:n_comps]):
                key = (variant, n_products + c_idx)
                requests.setdefault(
                    key,
                    ImageRequest(
                        key, f"{colour} {noun}", stable_seed(base_seed, variant, "complement", noun)
                    ),
                )
                keys.append(key)
            shown = [event.products[k[1]] for k in keys if k[1] < n_products]
            index = len(creatives)
            creatives.append(
                CreativePlan(
                    index=index,
                    creative_id=creative_id(event.event_id, index),
                    size=size,
                    variant=variant,
                    variant_name=name,
                    style=event.creative.style,
                    image_keys=tuple(keys),
                    copy=_copy_for(event, shown, tone),
                    products=tuple(p.sku for p in shown),
                    ad_type=event.type,
                    prompts=tuple(requests[k].prompt for k in keys),
                    complements=tuple(title for _noun, title in comps[:n_comps]),
                    template=template_for(size),
                    arrangement=arrangement_for(size, event.type, len(keys)),
                    tone=tone.name,
                    accent=colour,
                    typeface="serif" if tone.serif else "sans",
                    button="pill" if tone.pill else "square",
                    locale=audience.locale,
                    seed=stable_seed(base_seed, variant, size),
                )
            )
    images = sorted(requests.values(), key=lambda r: r.key)
    return EventPlan(images=images, creatives=creatives)
