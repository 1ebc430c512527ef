"""Account pages."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm, LogoutForm, PasswordForm, SignupForm
from app.navigation import local_path
from app.services import accounts, reviewers, tokens


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("classify.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(user)
            flash("Welcome to VisionLoop. Your results are now kept in your history.", "success")
            return redirect(url_for("classify.index"))
    return render_template("auth/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("classify.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash("Signed in.", "success")
            return redirect(local_path(request.args.get("next"), url_for("classify.index")))
        form.password.errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(current_user)  # a copy of the cookie must not outlive the logout
        logout_user()
        flash("Signed out.", "info")
    return redirect(url_for("classify.index"))


@bp.route("/profile/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of the user, this one too, and revoke every API token."""
    if LogoutForm().validate_on_submit():
        accounts.end_sessions(current_user)
        count = tokens.revoke_all_tokens(current_user)
        logout_user()
        flash(f"Signed out of every browser; {count} API tokens revoked.", "info")
        return redirect(url_for("classify.index"))
    return redirect(url_for("auth.profile"))


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's API tokens."""
    if LogoutForm().validate_on_submit():
        if tokens.revoke(current_user, token_id):
            flash("Token revoked.", "success")
        else:
            flash("No such token; it may have been revoked already.", "error")
    return redirect(url_for("auth.profile", _anchor="tokens"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Account details, activity counts and a password change."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except accounts.AccountError as exc:
            form.current.errors.append(str(exc))
        else:
            login_user(current_user._get_current_object())  # every other session has ended; this one carries the new version
            flash("Password changed. Other browsers are signed out and your API tokens revoked.", "success")
            return redirect(url_for("auth.profile"))
    return (render_template("auth/profile.html", form=form, stats=accounts.stats(current_user),
                            roles=reviewers.roles(current_user), tokens=tokens.listing(current_user),
                            action_form=LogoutForm(formdata=None)),
            400 if form.errors else 200)


@bp.app_context_processor
def inject_logout_form():
    """Every page's navigation carries the log-out button's form."""
    # formdata=None: error pages render this too, and must not read a body that was refused (413).
    return {"logout_form": LogoutForm(formdata=None)}
