{#-
    SPEC's URL rules, all in this one file, as steps that the model chains
    (each step's result is a column, so Spark evaluates every regular
    expression once per row):

    1. url_without_scheme(url): trim; drop a leading `scheme://` (or a bare `//`).
    2. url_host(rest): the authority (up to the first `/`, `?` or `#`)
       without `user@` (up to the last @) and `:port`, lower-cased; NULL when
       nothing is left (invalid_url).
    3. url_level1(host): the host without a leading `www.`, `wwwN.` or `w3.`.
    4. url_path_pieces(rest): the non-empty pieces of the path (after the
       host, up to `?` or `#`); url_level2 and url_level3 are the first two.
-#}
{% macro url_without_scheme(url_expr) -%}
    regexp_replace({{ trim_to_null(url_expr) }}, '^([A-Za-z][A-Za-z0-9+.-]*:)?//', '')
{%- endmacro %}

{% macro url_host(rest_expr) -%}
    nullif(lower(regexp_extract({{ rest_expr }}, '^(?:[^/?#]*@)?([^/?#:]*)', 1)), '')
{%- endmacro %}

{% macro url_level1(host_expr) -%}
    coalesce(nullif(regexp_replace({{ host_expr }}, '^(www[0-9]*|w3)\\.', ''), ''), {{ host_expr }})
{%- endmacro %}

{#- get(pieces, n) is NULL out of range, also with ANSI mode on. -#}
{% macro url_path_pieces(rest_expr) -%}
    filter(split(regexp_extract({{ rest_expr }}, '^[^/?#]*([^?#]*)', 1), '/'), piece -> piece != '')
{%- endmacro %}
