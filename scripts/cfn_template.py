"""infra/template.yaml as Python data: YAML with CloudFormation's short-form intrinsics.

`!Ref x` becomes {"Ref": x}, `!GetAtt a.b` {"Fn::GetAtt": [a, b]}, any other `!Name v`
{"Fn::Name": v}. Shared by scripts/local_cloud.py (the local stack) and scripts/template_checks.py
(the template's security assertions), so both read the template the same way.
"""

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")


class TemplateLoader(yaml.SafeLoader):
    """A YAML loader that turns `!Name value` into `{"Fn::Name": value}` (`!Ref` into `{"Ref":}`)."""


def _intrinsic(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + tag_suffix: value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path=TEMPLATE):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=TemplateLoader)
