"""Note lists show a plain-text excerpt, escaped."""


def test_list_shows_a_plain_excerpt_escaped(client, auth):
    auth.register()
    client.post("/notes/", data={"title": "T", "content": "**bold** <img src=x onerror=alert(1)>"})
    page = client.get("/notes/").get_data(as_text=True)
    assert "bold &lt;img src=x onerror=alert(1)&gt;" in page
    assert "**bold**" not in page
