"""Help > User Guide shows the docs pages with their screenshots; links move between pages;
every catalogue column is documented."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument

from decoras_gui.core.catalogue import COLUMNS
from decoras_gui.paths import docs_dir


def test_guide_opens_with_images_and_links(qtbot, window):
    window.act_guide.trigger()
    guide = window.user_guide
    assert guide.page == "index.md"
    text = guide.browser.toPlainText()
    assert "A quick tour" in text and "Detect" in text
    assert "accepts, R rejects" in text and "Headless commands for batch work" in text  # the whole page parsed
    doc = guide.browser.document()
    image = doc.resource(QTextDocument.ResourceType.ImageResource, QUrl("screenshot.png"))
    assert image is not None and not image.isNull()  # the screenshot is found and loaded
    guide.follow(QUrl("models.md"))
    assert guide.page == "models.md" and "When to trust it" in guide.browser.toPlainText()
    guide.browser.backward()
    assert guide.page == "index.md"
    guide.close()


def test_every_catalogue_column_is_documented():
    page = (docs_dir() / "catalogue.md").read_text(encoding="utf-8")
    missing = [c.name for c in COLUMNS if f"| `{c.name}` |" not in page]
    assert not missing, f"docs/catalogue.md lacks {missing}"


def test_readme_links_the_guide():
    readme = (docs_dir().parent / "README.md").read_text(encoding="utf-8")
    for page in ("docs/index.md", "docs/models.md", "docs/catalogue.md", "docs/commands.md", "docs/vetting.md"):
        assert page in readme, page


def test_the_survey_page_shows_its_screenshot(qtbot, window):
    window.act_guide.trigger()
    guide = window.user_guide
    guide.follow(QUrl("survey.md"))
    assert guide.page == "survey.md"
    text = guide.browser.toPlainText()
    assert "File > Detect in Folder" in text and "SLURMCluster" in text and "FIGURES" not in text
    image = guide.browser.document().resource(QTextDocument.ResourceType.ImageResource, QUrl("shots/survey_panel.png"))
    assert image is not None and not image.isNull()
    guide.close()
