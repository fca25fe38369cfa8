#!/usr/bin/env python3
"""A spreadsheet of N residents for measuring imports (docs/performance.md), the same for
the same arguments: name, gender, date of birth, phone, a valid national ID (unique within
the sheet; `province` keeps sheets apart), building, unit, room, a category for some and
skills for a third.

    python3 tests/bench/residents_sheet.py 1000000 r1m.csv --province 11
"""
import argparse
import random

parser = argparse.ArgumentParser()
parser.add_argument("rows", type=int)
parser.add_argument("out")
parser.add_argument("--province", default="11", help="two digits: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65")
args = parser.parse_args()

rng = random.Random(25)
surnames = "王王王王王王王李李李李李李李张张张张张张张刘刘刘刘刘陈陈陈陈陈杨杨杨黄黄黄赵赵赵吴吴周周徐徐孙孙马马朱朱胡胡郭郭何何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文婷梅鹏飞辉斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪雨萱子涵妍梓诗思博轩然昊天晨阳嘉雅淑珍德福永海燕春秋菊冬金凤花芬"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
checks = "10X98765432"
skills = ["", "", "", "医生", "教师", "书法", "会计、电脑", "理发", "唱歌、跳舞"]
categories = ["", "", "", "", "独居", "低保", "残疾"]
with open(args.out, "w", encoding="utf-8") as f:
    f.write("姓名,性别,出生日期,手机,身份证号,楼栋,单元,房号,类别,技能\n")
    for i in range(args.rows):
        name = rng.choice(surnames) + rng.choice(given) + ("" if rng.random() < 0.33 else rng.choice(given))
        y, m, d = rng.randint(1935, 2010), rng.randint(1, 12), rng.randint(1, 28)
        # Area, birth date and a sequence number: unique for every i below 9 M.
        seq = i % 1000
        body = f"{args.province}{101 + i // 1000:04d}{y:04d}{m:02d}{d:02d}{seq:03d}"
        check = checks[sum(int(a) * w for a, w in zip(body, weights)) % 11]
        gender = "男" if seq % 2 == 1 else "女"
        phone = f"1{3 + int(args.province) % 7}{i:09d}"
        f.write(f"{name},{gender},{y}-{m:02d}-{d:02d},{phone},{body}{check},"
                f"{rng.randint(1, 40)}号楼,{rng.randint(1, 4)}单元,{rng.randint(1, 30)}{rng.randint(1, 4):02d},"
                f"{rng.choice(categories)},{rng.choice(skills)}\n")
