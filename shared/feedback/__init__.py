"""The online feedback loop: impressions, clicks and conversions in; a serving plan, retirements
and regeneration events out. See docs/feedback.md."""
