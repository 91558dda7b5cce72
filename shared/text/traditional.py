"""Traditional Chinese characters -> simplified, for the characters the shop words use.

Shop words (shop_words.py) are written once, in simplified characters; a Taiwanese or Hong Kong
title ("後背包", "機械鍵盤") is mapped character by character before the scan. The table holds
only the traditional forms of characters that occur in the shop words (Unicode's Unihan
kTraditionalVariant, read once when the words changed; tests/unit/text/test_shop_words.py
checks it against Unihan_Variants.txt where the unicode-data package is installed), so workers
need no system data and no conversion library. Traditional-to-simplified is nearly one-to-one
(乾/幹 -> 干, 麵 -> 面); the other direction is not, hence this direction.
"""

from __future__ import annotations

# (traditional, simplified) pairs, concatenated.
# fmt: off
_PAIRS = (
    "乾干價价儀仪儲储兒儿內内冊册別别剋克創创劍剑劑剂動动務务勞劳參参叢丛單单噴喷噹当國国圍围圓圆圖图團团報报塊块墊垫壘垒壺壶壽寿夾夹妝妆婦妇媽妈學学宮宫實实寫写寶宝"
    "將将對对師师帶带幹干幾几廁厕廚厨廣广強强後后復复慄栗態态懶懒戰战戲戏戶户捲卷掃扫掛挂換换搖摇摺折撐撑撲扑撻挞擊击據据擴扩攜携攝摄數数曆历書书會会東东桿杆條条業业"
    "槍枪樂乐標标樹树機机檔档檯台檳槟檸柠櫃柜櫻樱欖榄歐欧歷历殼壳氣气沖冲涼凉湯汤滅灭漁渔漢汉漿浆潔洁潛潜灑洒灘滩烏乌無无熒荧熱热燈灯燒烧燭烛爾尔牆墙獼猕瑪玛環环畢毕"
    "畫画異异當当疊叠發发盜盗盤盘碼码禮礼競竞筆笔箏筝節节簍篓簽签簾帘籃篮籠笼糧粮紅红紉纫紋纹納纳純纯紗纱紙纸紡纺細细紳绅絆绊結结絨绒絲丝綠绿維维網网綿绵線线緞缎編编"
    "練练縫缝縮缩織织繡绣繩绳繪绘羅罗習习聖圣聲声聽听腦脑腳脚腸肠膚肤膠胶臉脸臍脐臟脏臺台舉举華华萬万葉叶著着蓋盖蔔卜蔥葱薑姜薩萨藍蓝藝艺蘇苏蘋苹蘭兰蘿萝號号蝦虾螄蛳"
    "蟲虫蠟蜡蠣蛎術术衚胡衛卫衝冲裝装裡里製制複复褲裤襪袜襯衬覆复視视訓训記记診诊註注試试話话誕诞說说課课調调諾诺謠谣證证譜谱護护豎竖豬猪貓猫貝贝買买貼贴資资賣卖賬账"
    "購购跡迹車车軌轨軍军軟软輕轻輪轮轉转辦办迴回連连運运過过遠远郵邮醫医醬酱釀酿釐厘釘钉針针釣钓鈎钩鈣钙鈴铃鉛铅鉤钩銅铜鋁铝鋒锋鋤锄鋰锂鋸锯鋼钢錄录錘锤錢钱鍋锅鍵键"
    "鎖锁鎬镐鏇旋鏈链鏡镜鏢镖鐵铁鐺铛鑰钥鑼锣鑽钻長长門门閃闪開开閑闲閒闲閘闸閤合闆板闊阔關关陽阳際际隨随雙双雛雏雜杂雞鸡電电響响頁页須须頌颂領领頭头顏颜顯显風风颱台"
    "颳刮飛飞飩饨飯饭飲饮飾饰餃饺餅饼養养餛馄饢馕馬马騎骑驗验髒脏體体髮发鬆松鬍胡鬚须魚鱼魷鱿鮮鲜鯉鲤鰐鳄鱷鳄鳳凤鴨鸭鵪鹌鶉鹑鶴鹤鹹咸鹽盐麗丽麥麦麯曲麵面黃黄齒齿齡龄"
    "龍龙"
)
# fmt: on
TO_SIMPLIFIED = str.maketrans(dict(zip(_PAIRS[::2], _PAIRS[1::2], strict=True)))


def simplified(text: str) -> str:
    """`text` with the shop words' traditional characters in their simplified form."""
    return text.translate(TO_SIMPLIFIED)
