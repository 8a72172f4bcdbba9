"""The public contact form, its embeddable copy and the confirmation page."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caseloop.automation.selectors import (
    case_first_response_due,
    expected_response_text,
    response_policy_load,
)
from caseloop.cases import known_issues
from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case
from caseloop.cases.services import AttachmentUpload
from caseloop.channels.intake import IntakeRejected
from caseloop.customers.models import ContactPoint
from caseloop.lib.ratelimit import client_address, rate_limit_hit

from .forms import ContactForm
from .models import DEFAULT_FORM_KEY, WebForm
from .services import ContactSubmission, webform_get, webform_rate_limit_hit, webform_submit

SUGGESTIONS_TEMPLATE = "knowledge/partials/form_suggestions.html"
TOKEN_SALT = "caseloop.webform.token"
THANKS_SALT = "caseloop.webform.thanks"
TOKEN_MAX_AGE = 24 * 3600
FOLLOW_URL = "channels:webform:known_issue_follow"
EMBED_FOLLOW_URL = "channels:webform:embed_known_issue_follow"


def _knowledge_suggestions_available() -> bool:
    try:
        select_template([SUGGESTIONS_TEMPLATE])
    except TemplateDoesNotExist:
        return False
    return True


def _form_token(webform: WebForm) -> str:
    """A signed, timestamped token naming the form and this rendering: the embedded form's
    defence against cross-site posts (a third-party iframe gets no CSRF cookie), and the
    id that makes a double submit create one case."""
    return signing.dumps({"form": webform.key, "nonce": uuid.uuid4().hex}, salt=TOKEN_SALT)


def _token_nonce(token: str, webform: WebForm) -> str | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return data.get("nonce") if data.get("form") == webform.key else None


def _frame_headers(response: HttpResponse, webform: WebForm) -> HttpResponse:
    ancestors = " ".join(["'self'", *webform.origins])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def _render(request, webform, form, *, embed: bool, status: int = 200, error: str = ""):
    template = "webform/embed.html" if embed else "webform/contact.html"
    action = (
        reverse("channels:webform:embed", args=[webform.key])
        if embed
        else (
            reverse("channels:webform:contact")
            if webform.key == DEFAULT_FORM_KEY
            else reverse("channels:webform:contact_keyed", args=[webform.key])
        )
    )
    context = {
        "webform": webform,
        "form": form,
        "form_token": _form_token(webform),
        "action": action,
        "error": error,
        "knowledge_suggestions": _knowledge_suggestions_available(),
        "max_attachment": settings.MAX_ATTACHMENT_BYTES,
    }
    context.update(_banners(request, webform if embed else None))
    response = render(request, template, context, status=status)
    return _frame_headers(response, webform) if embed else response


def _handle(request: HttpRequest, key: str, *, embed: bool) -> HttpResponse:
    webform = webform_get(key=key)
    if webform is None:
        raise Http404("no such form")
    if request.method != "POST":
        return _render(request, webform, ContactForm(), embed=embed)
    if webform_rate_limit_hit(form=webform, address=client_address(request)):
        minutes = max(1, webform.rate_window_seconds // 60)
        return _render(
            request,
            webform,
            ContactForm(request.POST),
            embed=embed,
            status=429,
            error=f"Too many messages from your address. Please try again in {minutes} minutes.",
        )
    form = ContactForm(request.POST, request.FILES)
    nonce = _token_nonce(request.POST.get("form_token", ""), webform)
    if nonce is None:
        return _render(
            request,
            webform,
            form,
            embed=embed,
            status=400,
            error="This form expired. Please send your message again.",
        )
    if form.is_spam:
        # Look like success so the bot learns nothing; no case is opened.
        return _thanks_redirect(webform, None, embed=embed)
    if not form.is_valid():
        return _render(request, webform, form, embed=embed, status=413 if form.oversized else 400)
    data = form.cleaned_data
    submission = ContactSubmission(
        subject=data["subject"],
        message=data["message"],
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        order_reference=data["order_reference"],
        attachments=[
            AttachmentUpload(
                filename=upload.name, content=upload.read(), content_type=upload.content_type or ""
            )
            for upload in data["attachments"]
        ],
    )
    try:
        result = webform_submit(form=webform, submission=submission, submission_id=nonce)
    except (IntakeRejected, CaseError) as exc:
        return _render(request, webform, form, embed=embed, status=400, error=str(exc))
    return _thanks_redirect(webform, result.case, embed=embed)


def _thanks_redirect(webform: WebForm, case: Case | None, *, embed: bool) -> HttpResponse:
    token = signing.dumps({"case": case.pk if case else None}, salt=THANKS_SALT)
    if embed:
        return redirect("channels:webform:embed_thanks", key=webform.key, token=token)
    return redirect("channels:webform:thanks", token=token)


def contact(request: HttpRequest) -> HttpResponse:
    return _handle(request, DEFAULT_FORM_KEY, embed=False)


def contact_keyed(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, embed=False)


@xframe_options_exempt
@csrf_exempt  # a third-party iframe gets no CSRF cookie; the signed form token stands in
def embed(request: HttpRequest, key: str) -> HttpResponse:
    return _handle(request, key, embed=True)


def _banners(request: HttpRequest, webform: WebForm | None = None) -> dict:
    """The known-issue banners; for an embedded form (`webform` given), each follow form
    carries the signed form token in place of the CSRF token a third-party frame lacks."""
    context = {
        **known_issues.known_issues_for_page(user=request.user),
        "follow_url_name": FOLLOW_URL,
    }
    if webform is not None and context["known_issues"]:
        context.update(
            follow_url_name=EMBED_FOLLOW_URL,
            follow_key=webform.key,
            follow_token=_form_token(webform),
        )
    return context


def _follow(request: HttpRequest, webform: WebForm, issue_id: int, *, embed: bool) -> HttpResponse:
    """Follow a known issue from the form's banner: limited per address like the form."""
    template = "webform/embed_followed.html" if embed else "webform/followed.html"
    email = request.POST.get("email", "").strip()[:400]
    context = {
        **_banners(request, webform if embed else None),
        "follow_email": email,
        "webform": webform,
    }

    def answer(status: int = 200) -> HttpResponse:
        response = render(request, template, context, status=status)
        return _frame_headers(response, webform) if embed else response

    if embed and _token_nonce(request.POST.get("form_token", ""), webform) is None:
        context["follow_error_general"] = "This form expired. Please try again"
        return answer(400)
    if rate_limit_hit(
        f"webform:{webform.key}:follow:{client_address(request)}",
        limit=webform.rate_limit,
        window=webform.rate_window_seconds,
    ):
        context["follow_error_general"] = known_issues.rate_limited_text(
            webform.rate_window_seconds
        )
        return answer(429)
    # Inside another site's frame nobody is signed in to the portal.
    status = known_issues.known_issue_follow_from_page(
        issue_id=issue_id,
        email=email,
        via="web_form",
        user=None if embed else request.user,
        context=context,
    )
    return answer(status)


@require_POST
def known_issue_follow(request: HttpRequest, issue_id: int) -> HttpResponse:
    """A customer asks to be told when a known issue is fixed, instead of writing in."""
    webform = webform_get(key=DEFAULT_FORM_KEY)
    if webform is None:
        raise Http404("no such form")
    return _follow(request, webform, issue_id, embed=False)


@xframe_options_exempt
@csrf_exempt  # a third-party iframe gets no CSRF cookie; the signed form token stands in
@require_POST
def embed_known_issue_follow(request: HttpRequest, key: str, issue_id: int) -> HttpResponse:
    webform = webform_get(key=key)
    if webform is None:
        raise Http404("no such form")
    return _follow(request, webform, issue_id, embed=True)


def _thanks_context(token: str) -> dict:
    try:
        data = signing.loads(token, salt=THANKS_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("this confirmation link expired") from exc
    case = Case.objects.filter(pk=data.get("case")).first() if data.get("case") else None
    expected = reply_email = ""
    if case is not None:
        reply_email = (
            ContactPoint.objects.filter(customer_id=case.customer_id, kind=ContactPoint.Kind.EMAIL)
            .values_list("value", flat=True)
            .first()
        ) or ""
        policy = response_policy_load()
        expected = expected_response_text(
            due=case_first_response_due(case=case, policy=policy),
            policy=policy,
            priority=case.priority,
        )
    return {"case": case, "expected_response": expected, "reply_email": reply_email}


def thanks(request: HttpRequest, token: str) -> HttpResponse:
    return render(request, "webform/thanks.html", _thanks_context(token))


@xframe_options_exempt
def embed_thanks(request: HttpRequest, key: str, token: str) -> HttpResponse:
    webform = webform_get(key=key)
    if webform is None:
        raise Http404("no such form")
    response = render(
        request, "webform/embed_thanks.html", {**_thanks_context(token), "webform": webform}
    )
    return _frame_headers(response, webform)
