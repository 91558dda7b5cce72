"""Hand-made map of catalog concepts to the ImageNet-1k classes that depict them (0-based ids).

Only concepts whose ImageNet class is the same kind of object are listed (a "running shoe"
emoji is a running shoe; a "kite" emoji is not ImageNet's kite, which is a bird).  Used by the
ImageNet agreement metric: does the Lite2 classifier put one of these classes in its top 5?
Names after each id are ImageNet's, for review.
"""

from __future__ import annotations

IMAGENET_CLASSES: dict[str, tuple[int, ...]] = {
    # food and drink
    "lemon": (951,),  # lemon
    "banana": (954,),  # banana
    "pineapple": (953,),  # pineapple
    "green apple": (948,),  # Granny Smith
    "strawberry": (949,),  # strawberry
    "tangerine": (950,),  # orange
    "bell pepper": (945,),  # bell pepper
    "cucumber": (943,),  # cucumber
    "broccoli": (937,),  # broccoli
    "ear of corn": (987, 998),  # corn, ear
    "pretzel": (932,),  # pretzel
    "bagel": (931,),  # bagel
    "baguette bread": (930,),  # French loaf
    "hamburger": (933,),  # cheeseburger
    "hot dog": (934,),  # hotdog
    "pizza": (963,),  # pizza
    "burrito": (965,),  # burrito
    "ice cream": (928,),  # ice cream
    "soft ice cream": (928,),  # ice cream
    "teapot": (849,),  # teapot
    "hot beverage": (504, 968, 967),  # coffee mug, cup, espresso
    "teacup without handle": (968,),  # cup
    "wine glass": (966, 572),  # red wine, goblet
    "beer mug": (441,),  # beer glass
    # sport and toys
    "soccer ball": (805,),  # soccer ball
    "baseball": (429,),  # baseball
    "basketball": (430,),  # basketball
    "volleyball": (890,),  # volleyball
    "rugby football": (768,),  # rugby ball
    "tennis": (852, 752),  # tennis ball, racket
    "ping pong": (722, 752),  # ping-pong ball, racket
    "skis": (795,),  # ski
    "balloon": (417,),  # balloon
    "teddy bear": (850,),  # teddy
    "joystick": (613,),  # joystick
    "puzzle piece": (611,),  # jigsaw puzzle
    # clothing, shoes, bags
    "sunglasses": (836, 837),  # sunglass, sunglasses
    "lab coat": (617,),  # lab coat
    "t-shirt": (610,),  # jersey
    "jeans": (608,),  # jean
    "socks": (806,),  # sock
    "kimono": (614,),  # kimono
    "bikini": (445,),  # bikini
    "one-piece swimsuit": (638, 639),  # maillot, maillot (tank suit)
    "necktie": (906,),  # Windsor tie
    "dress": (578,),  # gown
    "coat": (869, 568),  # trench coat, fur coat
    "purse": (748,),  # purse
    "handbag": (748,),  # purse
    "backpack": (414,),  # backpack
    "running shoe": (770,),  # running shoe
    "man's shoe": (630,),  # Loafer
    "woman's sandal": (774,),  # sandal
    "thong sandal": (774,),  # sandal
    "graduation cap": (667,),  # mortarboard
    "lipstick": (629,),  # lipstick
    # music and electronics
    "loudspeaker": (632,),  # loudspeaker
    "saxophone": (776,),  # sax
    "accordion": (401,),  # accordion
    "guitar": (402, 546),  # acoustic guitar, electric guitar
    "violin": (889, 486),  # violin, cello
    "banjo": (420,),  # banjo
    "drum": (541,),  # drum
    "flute": (558,),  # flute
    "trumpet": (513,),  # cornet
    "maracas": (641,),  # maraca
    "mobile phone": (487,),  # cellular telephone
    "telephone": (528,),  # dial telephone
    "laptop": (620, 681),  # laptop, notebook
    "desktop computer": (527, 664, 782),  # desktop computer, monitor, screen
    "printer": (742,),  # printer
    "keyboard": (508, 878),  # computer keyboard, typewriter keyboard
    "computer mouse": (673,),  # mouse
    "television": (851,),  # television
    "camera": (759, 732),  # reflex camera, Polaroid camera
    "film projector": (745,),  # projector
    "abacus": (398,),  # abacus
    # household, office, tools
    "candle": (470,),  # candle
    "flashlight": (862,),  # torch
    "hammer": (587,),  # hammer
    "axe": (596,),  # hatchet
    "screwdriver": (784,),  # screwdriver
    "syringe": (845,),  # syringe
    "stethoscope": (823,),  # stethoscope
    "crutch": (523,),  # crutch
    "plunger": (731,),  # plunger
    "bathtub": (435, 876),  # bathtub, tub
    "toilet": (861,),  # toilet seat
    "lotion bottle": (631,),  # lotion
    "safety pin": (772,),  # safety pin
    "broom": (462,),  # broom
    "bucket": (463,),  # bucket
    "shopping cart": (791,),  # shopping cart
    "mouse trap": (674,),  # mousetrap
    "fountain pen": (563,),  # fountain pen
    "pen": (418,),  # ballpoint
    "paintbrush": (696,),  # paintbrush
    "straight ruler": (769,),  # rule
    "chains": (488,),  # chain
    "hook": (600,),  # hook
    "shield": (787,),  # shield
    "wastebasket": (412,),  # ashcan
    "balance scale": (778,),  # scale
    "petri dish": (712,),  # Petri dish
}
