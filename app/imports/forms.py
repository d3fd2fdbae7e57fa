from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField

KIND_CHOICES = [("officers", "执法人员"), ("certificates", "证件")]  # the view sets the registry's


class ImportForm(FlaskForm):
    kind = SelectField("导入内容", choices=KIND_CHOICES)
    file = FileField("文件（.xlsx、.xls、.ods 或 .csv）", validators=[FileRequired("请选择要导入的文件")])
    dry_run = BooleanField("仅校验（不写入）")
