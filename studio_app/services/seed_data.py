"""The catalog a fresh install starts with: 5 categories × 3 templates.

Keys (slugs) are stable: seeding inserts what is missing and never touches a
row that exists, so an admin's edits survive every re-seed.
"""

from __future__ import annotations

SEED_CATEGORIES: list[dict] = [
    {
        "slug": "marketing",
        "name": "Marketing",
        "description": "Campaign visuals, launch heroes and ad creatives that sell.",
        "templates": [
            {
                "slug": "product-launch-hero",
                "name": "Product launch hero",
                "description": "A bold hero image for a landing page or launch email.",
                "default_tier": "premium-wide",
                "prompt": (
                    "A sleek [product] floating above a clean gradient backdrop in deep navy "
                    "and electric teal, dramatic rim lighting, soft reflections on a glossy "
                    "floor, generous empty space on the left for a headline, premium "
                    "commercial photography style"
                ),
            },
            {
                "slug": "festive-sale-banner",
                "name": "Festive sale banner",
                "description": "A warm Diwali or seasonal sale banner with room for the offer.",
                "default_tier": "premium-wide",
                "prompt": (
                    "Festive sale banner with glowing diyas, marigold garlands and soft bokeh "
                    "lights, warm saffron and deep magenta palette, a clear central area for "
                    "the text 'Up to 40% off', joyful and premium, flat lay composition"
                ),
            },
            {
                "slug": "event-poster",
                "name": "Event poster",
                "description": "A poster for a workshop, meetup or webinar.",
                "default_tier": "premium",
                "prompt": (
                    "Modern event poster for a startup meetup in Bengaluru, abstract geometric "
                    "shapes in coral and indigo, subtle city skyline silhouette, confident "
                    "Swiss-style layout with space for date and venue"
                ),
            },
        ],
    },
    {
        "slug": "social-media",
        "name": "Social Media",
        "description": "Square posts, quote cards and story backgrounds for every feed.",
        "templates": [
            {
                "slug": "instagram-quote-card",
                "name": "Instagram quote card",
                "description": "A calm background for a motivational quote.",
                "default_tier": "standard",
                "prompt": (
                    "Minimal square background for a motivational quote, soft morning light "
                    "through sheer curtains, pastel peach and sage tones, lots of negative "
                    "space in the centre, calm and airy"
                ),
            },
            {
                "slug": "food-post",
                "name": "Café food post",
                "description": "A mouth-watering top-down shot for a café's feed.",
                "default_tier": "standard",
                "prompt": (
                    "Top-down photo of a masala chai and two butter croissants on a rustic "
                    "wooden table, morning sunlight, scattered cardamom pods, shallow depth "
                    "of field, warm and inviting, Instagram food photography"
                ),
            },
            {
                "slug": "linkedin-announcement",
                "name": "LinkedIn announcement",
                "description": "A professional visual for hiring or milestone posts.",
                "default_tier": "premium",
                "prompt": (
                    "Professional illustration celebrating a team milestone, diverse team "
                    "around a laptop with a rising chart, clean corporate blue and white "
                    "palette, friendly flat vector style, space at the top for a headline"
                ),
            },
        ],
    },
    {
        "slug": "e-commerce",
        "name": "E-commerce",
        "description": "Product shots and lifestyle scenes for your online shop.",
        "templates": [
            {
                "slug": "white-background-product",
                "name": "Product on white",
                "description": "A marketplace-ready product photo on pure white.",
                "default_tier": "standard",
                "prompt": (
                    "Studio product photo of a handmade ceramic coffee mug on a pure white "
                    "background, soft even lighting, subtle natural shadow, sharp focus, "
                    "marketplace listing style, no props"
                ),
            },
            {
                "slug": "lifestyle-scene",
                "name": "Lifestyle scene",
                "description": "Your product in a real home, styled and sunlit.",
                "default_tier": "premium",
                "prompt": (
                    "Lifestyle photo of a handwoven cotton throw draped over a linen sofa in "
                    "a sunlit living room, potted monstera, neutral earthy tones, cosy and "
                    "aspirational, editorial interior photography"
                ),
            },
            {
                "slug": "flat-lay-collection",
                "name": "Flat lay collection",
                "description": "A curated flat lay for a collection or gift set.",
                "default_tier": "standard",
                "prompt": (
                    "Flat lay of an organic skincare gift set: amber glass bottles, a bar of "
                    "turmeric soap, dried rose petals and eucalyptus on a terracotta linen "
                    "cloth, soft diffused daylight, balanced composition"
                ),
            },
        ],
    },
    {
        "slug": "education",
        "name": "Education",
        "description": "Clear illustrations for lessons, worksheets and slides.",
        "templates": [
            {
                "slug": "science-diagram",
                "name": "Science illustration",
                "description": "A friendly illustration that explains a concept.",
                "default_tier": "premium",
                "prompt": (
                    "Clear educational illustration of the water cycle for class 6 students: "
                    "evaporation from a lake, clouds forming, rain over green hills, arrows "
                    "showing the flow, bright friendly colours, clean flat style, no text"
                ),
            },
            {
                "slug": "history-scene",
                "name": "History scene",
                "description": "A vivid scene that brings a history lesson to life.",
                "default_tier": "premium-wide",
                "prompt": (
                    "Historically inspired painting of a bustling market street in ancient "
                    "Pataliputra, merchants with spices and textiles, wooden buildings, "
                    "morning light, rich detail, storybook illustration style for students"
                ),
            },
            {
                "slug": "classroom-poster",
                "name": "Classroom poster",
                "description": "A cheerful poster for the classroom wall.",
                "default_tier": "standard",
                "prompt": (
                    "Cheerful classroom poster background about reading, stacks of colourful "
                    "books, a smiling owl with glasses, stars and doodles, bright primary "
                    "colours, playful illustration with space for a title"
                ),
            },
        ],
    },
    {
        "slug": "creative",
        "name": "Creative",
        "description": "Art, fantasy and anything your imagination asks for.",
        "templates": [
            {
                "slug": "dreamy-landscape",
                "name": "Dreamy landscape",
                "description": "A surreal landscape in soft, glowing colours.",
                "default_tier": "premium-wide",
                "prompt": (
                    "Surreal landscape of floating islands above a sea of clouds at golden "
                    "hour, waterfalls spilling into the sky, tiny lanterns, soft glowing "
                    "pastel palette, highly detailed digital painting"
                ),
            },
            {
                "slug": "character-portrait",
                "name": "Character portrait",
                "description": "A stylised portrait for a story or game.",
                "default_tier": "standard",
                "prompt": (
                    "Portrait of a young cartographer with ink-stained fingers and a brass "
                    "compass, cosy lantern-lit study full of maps, warm painterly style, "
                    "expressive eyes, rich textures"
                ),
            },
            {
                "slug": "abstract-art",
                "name": "Abstract art print",
                "description": "A gallery-style abstract piece for walls and covers.",
                "default_tier": "premium",
                "prompt": (
                    "Abstract art print of flowing ink in indigo, ochre and coral, marbled "
                    "textures, gold leaf accents, balanced asymmetric composition, museum "
                    "quality, high resolution"
                ),
            },
        ],
    },
]
