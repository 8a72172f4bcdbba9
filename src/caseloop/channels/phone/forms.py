from __future__ import annotations

from django import forms

from .models import CallLog


class CallLogForm(forms.Form):
    direction = forms.ChoiceField(choices=CallLog.Direction.choices, widget=forms.RadioSelect)
    phone = forms.CharField(max_length=40, label="Customer's phone number")
    name = forms.CharField(max_length=200, required=False, label="Caller's name")
    duration_minutes = forms.IntegerField(min_value=0, max_value=1440, initial=0, label="Minutes")
    duration_extra_seconds = forms.IntegerField(
        min_value=0, max_value=59, initial=0, label="Seconds"
    )
    subject = forms.CharField(max_length=300, required=False)
    case_reference = forms.CharField(
        max_length=20, required=False, label="Case reference (leave empty to open a case)"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
