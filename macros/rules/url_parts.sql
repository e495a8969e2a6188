{#-
    SPEC's URL rules, all in this one file.

    url_host: trim; drop a leading `scheme://` (or a bare `//`); the authority
    is what follows, up to the first `/`, `?` or `#`; drop `user@` (up to the
    last @) and `:port`; lower-case. NULL when nothing is left (invalid_url).
-#}
{% macro url_without_scheme(url_expr) -%}
    regexp_replace({{ trim_to_null(url_expr) }}, '^([A-Za-z][A-Za-z0-9+.-]*:)?//', '')
{%- endmacro %}

{% macro url_host(url_expr) -%}
    nullif(
        lower(
            regexp_replace(
                regexp_replace(regexp_extract({{ url_without_scheme(url_expr) }}, '^[^/?#]*', 0), '^.*@', ''),
                ':.*$', ''
            )
        ),
        ''
    )
{%- endmacro %}

{#- url_level1: the host without a leading `www.`, `wwwN.` or `w3.` label. -#}
{% macro url_level1(host_expr) -%}
    coalesce(nullif(regexp_replace({{ host_expr }}, '^(www[0-9]*|w3)\\.', ''), ''), {{ host_expr }})
{%- endmacro %}

{#-
    url_path_level(url, n): the n-th (0-based) non-empty piece of the path
    (after the host, up to `?` or `#`), NULL when absent. get() returns NULL
    out of range, also with ANSI mode on.
-#}
{% macro url_path_level(url_expr, n) -%}
    get(
        filter(split(regexp_extract({{ url_without_scheme(url_expr) }}, '^[^/?#]*([^?#]*)', 1), '/'), piece -> piece != ''),
        {{ n }}
    )
{%- endmacro %}
