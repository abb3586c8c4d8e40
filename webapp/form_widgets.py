"""Form widgets shared by the pages."""

from __future__ import annotations

from markupsafe import Markup
from wtforms.widgets import Select


class KeptSelect(Select):
    """A ``<select>`` whose HTML is kept and given again for the same options, choice and attributes.

    For the long reference lists (44 kecamatan, the KBLI sectors) that staff pages show on every
    view: WTForms builds and escapes each option's attributes anew, which was most of the cohort
    runs page's rendering. The key holds everything the HTML is made of (the field's id and name,
    the attributes asked for, the validation flags, and every option's value, label in the
    reader's language (and whether it is markup), attributes and whether it is chosen), so a kept
    answer is always the one WTForms would make. Grouped options and attributes that cannot be a
    key are rendered as usual.
    """

    KEEP = 256  # answers kept per widget (a few KB each); emptied when full

    def __init__(self, multiple: bool = False):
        super().__init__(multiple)
        self._kept: dict = {}

    def __call__(self, field, **kwargs) -> Markup:
        if field.has_groups():
            return super().__call__(field, **kwargs)
        try:
            key = self._key(field, kwargs)
            found = self._kept.get(key)
        except TypeError:  # an unhashable attribute or value: no key, render as usual
            return super().__call__(field, **kwargs)
        if found is None:
            found = super().__call__(field, **kwargs)
            if len(self._kept) >= self.KEEP:
                self._kept.clear()
            self._kept[key] = found
        return found

    def _key(self, field, kwargs: dict) -> tuple:
        flags = getattr(field, "flags", None)
        return (
            field.id,
            field.name,
            tuple(sorted(kwargs.items())),
            tuple(getattr(flags, name, None) for name in self.validation_attrs),
            tuple(
                (
                    c.value,
                    str(c.label),
                    isinstance(c.label, Markup),
                    c.selected,
                    tuple(sorted((c.render_kw or {}).items())),
                )
                for c in field.iter_choices()
            ),
        )
