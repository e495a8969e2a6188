{#-
    A value as a Spark SQL string literal: the one way a var or any other text
    reaches SQL between quotes. The backslash is the escape Spark's parser
    documents inside '...': a backslash is doubled and a single quote becomes
    \'. (Only recent Spark versions also read a doubled quote as a quote;
    older ones read 'a''b' as two literals joined, which drops the quote.)
-#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
