"""Account pages."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm, LogoutForm, PasswordForm, SignupForm
from app.navigation import local_path
from app.services import accounts, reviewers


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
        logout_user()
        flash("Signed out.", "info")
    return redirect(url_for("classify.index"))


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
            flash("Password changed.", "success")
            return redirect(url_for("auth.profile"))
    return (render_template("auth/profile.html", form=form, stats=accounts.stats(current_user),
                            roles=reviewers.roles(current_user)),
            400 if form.errors else 200)


@bp.app_context_processor
def inject_logout_form():
    """Every page's navigation carries the log-out button's form."""
    # formdata=None: error pages render this too, and must not read a body that was refused (413).
    return {"logout_form": LogoutForm(formdata=None)}
